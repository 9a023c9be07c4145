/* Nothing typed is lost (loaded by base.html on every page).

   What is typed into a form that posts (text, selects, checkboxes, text areas; never passwords, files or hidden
   fields such as the CSRF token) is kept in this tab's sessionStorage, per page and form, as it is typed. When
   the page is shown again (after signing in again when the session had ended, a page that has expired, the
   language switch, a refusal) it is put back into the fields the page shows unchanged, and the page says so.
   It is dropped once the form was saved: the page after its submission shows a success message, or is another
   page without an error. The server's side: app/auth (sign-in and back to the form's page, a stale form).

   Rows added by the page's own script (the household's members): a box that holds them names their inputs'
   common prefix in data-rows (rows named PREFIX + index + ...); before putting values back, this script asks for
   each missing row with a "keep-row" event on that box ({index: n} in its detail), which the page's script
   answers by adding the row. What still has no input to go into is never dropped (it stays kept, and the page
   says that part could not be put back instead of saying all was restored).

   A page the server sent instead of the form's own without saving it (a second new case of a household that has
   a draft opens that draft's form) carries keep-from=PAGE in its address: what was kept for PAGE's form is not
   dropped, and is put into this page's form that posts to itself, where the names match (then kept under this
   page until it is saved).

   Kept under the signed-in account (the script's data-who): another person signing in in this tab never sees it,
   and signing out drops it. A form opts out with data-keep="off", and so does an input; passwords and tokens are
   never kept (type password, autocomplete new-password or current-password, a name that says password, secret
   or token). Buttons with data-check="all|none" tick or untick the form's checkboxes named by data-check-of, in
   place (without this script they post, and the server shows the page again with what was typed). Plain ES5,
   for the old browsers of union offices. */
(function () {
  "use strict";
  var script = document.currentScript;
  var store;
  try {
    store = window.sessionStorage;
    store.setItem("keep:test", "1");
    store.removeItem("keep:test");
  } catch (e) {
    return; // no storage (a private window of an old browser): the forms work as they always did
  }
  var who = script ? script.getAttribute("data-who") || "" : "";
  var answered = script ? script.getAttribute("data-answered") === "1" : false;
  var PREFIX = "keep:";
  var PENDING = "keep-pending";
  var DAY = 24 * 3600 * 1000;
  var SKIPPED = { password: 1, file: 1, hidden: 1, submit: 1, button: 1, reset: 1, image: 1 };
  var SECRET_AUTOCOMPLETE = { "new-password": 1, "current-password": 1 };
  var SECRET_NAME = /password|passwd|secret|token/i;
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var TEXT = english
    ? { restored: "What you had typed and not yet saved is filled in again: check it before sending.",
        clear: "Clear it",
        partly: "Part of what you had typed and not yet saved could not be put back on this page; it is still kept." }
    : { restored: "已恢复上次未提交的内容，请核对后提交。", clear: "清除恢复的内容",
        partly: "上次未提交的内容有一部分未能填回本页，仍为您保留。" };
  var left = {}; // by form key: kept values this page has no input for, written again with what is typed

  function read(key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function write(key, value) {
    try {
      store.setItem(key, JSON.stringify(value));
    } catch (e) {
      // full: this form is not kept, the page works on
    }
  }

  function keptKeys() {
    var keys = [];
    for (var i = 0; i < store.length; i += 1) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        keys.push(key);
      }
    }
    return keys;
  }

  function dropAll() {
    keptKeys().forEach(function (key) { store.removeItem(key); });
    store.removeItem(PENDING);
  }

  function isPost(form) {
    return (form.getAttribute("method") || "get").toLowerCase() === "post";
  }

  function kept(form) {
    return isPost(form) && form.getAttribute("data-keep") !== "off" && !form.classList.contains("lang");
  }

  function pathOf(url) {
    var link = document.createElement("a");
    link.href = url;
    return link.pathname.replace(/^([^\/])/, "/$1") + link.search;
  }

  function here() {
    return location.pathname + location.search;
  }

  // page and form: the form's target and its place among the forms of the page with the same target; `page` and
  // `target` given: the same form's key on another page (keep-from)
  function keyOf(form, page, target) {
    var forms = document.forms;
    var own = pathOf(form.action);
    var n = 0;
    for (var i = 0; i < forms.length && forms[i] !== form; i += 1) {
      if (pathOf(forms[i].action) === own) {
        n += 1;
      }
    }
    return PREFIX + who + ":" + (page || here()) + "|" + (target || own) + "|" + n;
  }

  function secret(el) {
    var type = (el.type || "").toLowerCase();
    var autocomplete = (el.getAttribute("autocomplete") || "").toLowerCase();
    return type === "password" || SECRET_AUTOCOMPLETE[autocomplete] === 1 || SECRET_NAME.test(el.name || "");
  }

  function fields(form) {
    var out = [];
    var seen = {};
    var elements = form.elements;
    for (var i = 0; i < elements.length; i += 1) {
      var el = elements[i];
      var type = (el.type || "").toLowerCase();
      if (!el.name || el.disabled || SKIPPED[type] || secret(el) || el.tagName === "BUTTON" ||
          el.tagName === "FIELDSET" || el.getAttribute("data-keep") === "off") {
        continue;
      }
      var name = el.name + (type === "checkbox" || type === "radio" ? "=" + el.value : "");
      seen[name] = (seen[name] || 0) + 1;
      out.push({ el: el, id: name + "#" + seen[name], type: type });
    }
    return out;
  }

  function valueOf(field) {
    var el = field.el;
    if (field.type === "checkbox" || field.type === "radio") {
      return el.checked;
    }
    if (el.tagName === "SELECT") {
      var chosen = [];
      for (var i = 0; i < el.options.length; i += 1) {
        if (el.options[i].selected) {
          chosen.push(el.options[i].value);
        }
      }
      return chosen.join("\n");
    }
    return el.value;
  }

  function defaultOf(field) {
    var el = field.el;
    if (field.type === "checkbox" || field.type === "radio") {
      return el.defaultChecked;
    }
    if (el.tagName === "SELECT") {
      var chosen = [];
      var any = false;
      for (var i = 0; i < el.options.length; i += 1) {
        any = any || el.options[i].defaultSelected;
        if (el.options[i].defaultSelected) {
          chosen.push(el.options[i].value);
        }
      }
      // a single select shows its first option when none is marked selected
      if (!any && !el.multiple && el.options.length) {
        chosen.push(el.options[0].value);
      }
      return chosen.join("\n");
    }
    return el.defaultValue;
  }

  function setValue(field, value) {
    var el = field.el;
    if (field.type === "checkbox" || field.type === "radio") {
      el.checked = value;
    } else if (el.tagName === "SELECT") {
      var chosen = String(value).split("\n");
      for (var i = 0; i < el.options.length; i += 1) {
        el.options[i].selected = chosen.indexOf(el.options[i].value) >= 0;
      }
    } else {
      el.value = value;
    }
    // the page's own scripts (live checks of the case form) see the value as if typed
    var event = document.createEvent("HTMLEvents");
    event.initEvent(field.type === "checkbox" || field.type === "radio" || el.tagName === "SELECT" ? "change" : "input",
                    true, false);
    el.dispatchEvent(event);
  }

  function save(form) {
    var values = {};
    var any = false;
    fields(form).forEach(function (field) {
      var value = valueOf(field);
      if (value !== defaultOf(field)) {
        values[field.id] = value;
        any = true;
      }
    });
    var key = keyOf(form);
    var kept = left[key] || {};
    for (var id in kept) {
      if (kept.hasOwnProperty(id) && !values.hasOwnProperty(id)) {
        values[id] = kept[id];
        any = true;
      }
    }
    if (any) {
      write(key, { at: new Date().getTime(), values: values });
    } else {
      store.removeItem(key);
    }
    return key;
  }

  // the rows a box of the form holds (data-rows, the prefix of their names): the row index of a kept id, or null
  function rowIndex(prefix, id) {
    var match = id.indexOf(prefix) === 0 ? /^(\d+)\D/.exec(id.slice(prefix.length)) : null;
    return match ? parseInt(match[1], 10) : null;
  }

  function inRows(form, id) {
    var boxes = form.querySelectorAll("[data-rows]");
    for (var i = 0; i < boxes.length; i += 1) {
      if (rowIndex(boxes[i].getAttribute("data-rows"), id) !== null) {
        return true;
      }
    }
    return false;
  }

  // before putting values back: ask the page's script for the rows they need that the page does not show
  function addRows(form, values) {
    var boxes = form.querySelectorAll("[data-rows]");
    for (var b = 0; b < boxes.length; b += 1) {
      var prefix = boxes[b].getAttribute("data-rows");
      var shown = {};
      var wanted = [];
      fields(form).forEach(function (field) {
        var index = rowIndex(prefix, field.id);
        if (index !== null) {
          shown[index] = true;
        }
      });
      for (var id in values) {
        var index = values.hasOwnProperty(id) ? rowIndex(prefix, id) : null;
        if (index !== null && !shown[index] && wanted.indexOf(index) < 0) {
          wanted.push(index);
        }
      }
      wanted.sort(function (a, b) { return a - b; });
      for (var w = 0; w < wanted.length; w += 1) {
        var event;
        try {
          event = document.createEvent("CustomEvent");
          event.initCustomEvent("keep-row", false, false, { index: wanted[w] });
        } catch (e) {
          return; // no custom events: the values of those rows stay kept, unplaced
        }
        boxes[b].dispatchEvent(event);
      }
    }
  }

  // kept values (never a secret's, whatever an older copy of this script kept), noting their ids in `seen`
  function copy(into, values, seen) {
    for (var id in values) {
      if (values.hasOwnProperty(id) && !SECRET_NAME.test(id.split("#")[0])) {
        into[id] = values[id];
        if (seen) {
          seen[id] = true;
        }
      }
    }
  }

  function restore(form) {
    var key = keyOf(form);
    var record = read(key);
    // sent from another page, not saved (keep-from): its form's values, into this page's form that posts to itself
    var source = sentFrom && pathOf(form.action) === here() ? keyOf(form, sentFrom, sentFrom) : null;
    var brought = source ? read(source) : null;
    var values = {};
    var fromThere = {};
    copy(values, record && record.values);
    copy(values, brought && brought.values, fromThere);
    var any = false;
    for (var id in values) {
      any = any || values.hasOwnProperty(id);
    }
    if (!any) {
      return;
    }
    addRows(form, values);
    var restored = [];
    var placed = {};
    fields(form).forEach(function (field) {
      placed[field.id] = true;
      if (!values.hasOwnProperty(field.id)) {
        return;
      }
      var value = values[field.id];
      // only into a field the page shows as it came: never over what the browser or the person put there now
      if (valueOf(field) === defaultOf(field) && value !== valueOf(field)) {
        setValue(field, value);
        restored.push(field);
      }
    });
    // what has no input here stays kept; from another page, only its rows count (an edit asks no campaign)
    var unplaced = {};
    var lost = false;
    for (id in values) {
      if (values.hasOwnProperty(id) && !placed[id] && !(fromThere[id] && !inRows(form, id))) {
        unplaced[id] = values[id];
        lost = true;
      }
    }
    left[key] = unplaced;
    if (brought) {
      save(form); // now kept under this page, until its form is saved
      store.removeItem(source);
    }
    if (lost || restored.length) {
      announce(form, key, restored, lost);
    }
  }

  // what was put back, or (`lost`) that part could not be: never that all was restored when it was not
  function announce(form, key, restored, lost) {
    var shown = document.createElement("p");
    shown.className = "flash " + (lost ? "warning" : "info") + " keep-notice";
    shown.setAttribute("role", "status");
    shown.appendChild(document.createTextNode((lost ? TEXT.partly : TEXT.restored) + " "));
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "link";
    clear.appendChild(document.createTextNode(TEXT.clear));
    clear.addEventListener("click", function () {
      restored.forEach(function (field) { setValue(field, defaultOf(field)); });
      store.removeItem(key);
      left[key] = {};
      shown.parentNode.removeChild(shown);
    });
    shown.appendChild(clear);
    form.parentNode.insertBefore(shown, form);
  }

  function formOf(element) {
    return element && element.form ? element.form : null;
  }

  function check(button) {
    var form = button.form;
    var name = button.getAttribute("data-check-of") || "case";
    var on = button.getAttribute("data-check") === "all";
    var boxes = form.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i += 1) {
      if (boxes[i].name === name && !boxes[i].disabled) {
        boxes[i].checked = on;
      }
    }
    if (kept(form)) {
      save(form);
    }
  }

  // ---- signed out: the sign-in page (no account) leaves everything as it is, and marks a form sent
  // without a session as not saved (the sign-in brings the person back to its page)
  var pending = read(PENDING);
  if (!who) {
    if (pending) {
      pending.interrupted = true;
      write(PENDING, pending);
    }
    return;
  }

  // ---- another person in this tab: what the one before kept is theirs, not this one's
  keptKeys().forEach(function (key) {
    var record = read(key);
    if (key.indexOf(PREFIX + who + ":") !== 0 || !record || new Date().getTime() - record.at > DAY) {
      store.removeItem(key);
    }
  });

  // ---- sent here instead of the form's own page, not saved: keep-from names that page (taken off the address,
  // so that this page's own form posts to, and is kept under, its plain address)
  var sentFrom = (function () {
    var match = /[?&]keep-from=([^&#]*)/.exec(location.search);
    var page = "";
    if (!match) {
      return "";
    }
    try {
      page = decodeURIComponent(match[1].replace(/\+/g, " "));
    } catch (e) {
      return "";
    }
    if (window.history && history.replaceState) {
      var search = location.search.replace(/([?&])keep-from=[^&#]*&?/, "$1").replace(/[?&]$/, "");
      history.replaceState(history.state, "", location.pathname + search + location.hash);
    }
    // Only a new record's page (/cases/new), and only right after its form was sent from this tab: a link
    // naming another page (another case's form) moves nothing.
    var sent = pending && pending.key && pending.key.indexOf(PREFIX + who + ":" + page + "|") === 0;
    return sent && /^\/[a-z]+\/new(\?|$)/.test(page) ? page : "";
  }());

  // ---- the page after a form was sent: saved, unless it says otherwise
  if (pending) {
    store.removeItem(PENDING);
    var refused = answered || pending.interrupted || sentFrom !== "" ||
      document.querySelector(".flash.error, .field-error, .error-summary, [role=alert]") !== null;
    var saved = !answered && !pending.interrupted && !sentFrom && document.querySelector(".flash.success") !== null;
    if (pending.key && pending.who === who && (saved || !refused)) {
      store.removeItem(pending.key);
    }
  }

  // ---- a page answering a form has no address of its own: the language switch goes back to the form's page
  if (answered && document.referrer) {
    var next = document.querySelector("form.lang input[name=next]");
    var from = document.createElement("a");
    from.href = document.referrer;
    if (next && !next.value && from.host === location.host) {
      next.value = pathOf(document.referrer);
    }
  }

  for (var i = 0; i < document.forms.length; i += 1) {
    if (kept(document.forms[i])) {
      restore(document.forms[i]);
    }
  }

  function typed(event) {
    var form = formOf(event.target);
    if (form && kept(form)) {
      save(form);
    }
  }
  document.addEventListener("input", typed, true);
  document.addEventListener("change", typed, true);

  document.addEventListener("click", function (event) {
    var button = event.target;
    while (button && button.tagName !== "BUTTON") {
      button = button.parentNode;
    }
    if (button && button.form && button.getAttribute("data-check")) {
      event.preventDefault();
      check(button);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !isPost(form)) {
      return;
    }
    if (pathOf(form.action).replace(/\?.*$/, "") === "/signout") {
      dropAll();
      return;
    }
    var key = kept(form) ? save(form) : null;
    write(PENDING, { who: who, key: key, at: new Date().getTime() });
  });
}());
