/* The case form (templates/cases/form.html): add and remove household rows in the browser.
   Without this script the same buttons submit the form and the server adds or removes the row, keeping what was
   typed. Plain ES5, for the old browsers of union offices. The server numbers rows by their order, so the
   indexes left after a removal need not be consecutive. */
(function () {
  "use strict";
  var form = document.querySelector("form.case-form");
  var body = form && form.querySelector("[data-members]");
  var prototype = document.getElementById("member-row-template");
  if (!body || !prototype || !("content" in prototype)) {
    return; // no <template> support: the buttons keep submitting to the server
  }
  var next = parseInt(body.getAttribute("data-next"), 10) || 0;

  function buttonOf(element) {
    while (element && element !== form) {
      if (element.tagName === "BUTTON") {
        return element;
      }
      element = element.parentNode;
    }
    return null;
  }

  function rowOf(element) {
    while (element && element.tagName !== "TR") {
      element = element.parentNode;
    }
    return element;
  }

  // a row at `index` (the next one if none is given); `quiet`: without moving the focus to it
  function addRow(index, quiet) {
    var at = typeof index === "number" ? index : next;
    var holder = document.createElement("tbody");
    holder.innerHTML = prototype.innerHTML.replace(/__i__/g, String(at));
    next = Math.max(next, at + 1);
    var row = holder.querySelector("tr");
    body.appendChild(row);
    var first = row.querySelector("input[type=text]");
    if (first && !quiet) {
      first.focus();
    }
  }

  function removeRow(button) {
    var row = rowOf(button);
    if (row && row.parentNode === body) {
      body.removeChild(row);
    }
    var add = form.querySelector("button[name=add_member]");
    if (add) {
      add.focus();
    }
  }

  // keep.js putting back what was typed before (its data-rows): a row it needs that the page does not show
  body.addEventListener("keep-row", function (event) {
    var index = event.detail ? event.detail.index : null;
    if (typeof index === "number" && index >= 0 && index === Math.floor(index)) {
      addRow(index, true);
    }
  });

  form.addEventListener("click", function (event) {
    var button = buttonOf(event.target);
    if (!button) {
      return;
    }
    if (button.name === "add_member") {
      event.preventDefault();
      addRow();
    } else if (button.name === "remove_member") {
      event.preventDefault();
      removeRow(button);
    }
  });
}());


/* What `document` will need, live: as the cadre types, the form as it stands goes to the server (cases.check_new
   or cases.check, which save nothing), and the needs list, the marks on the inputs and the account warning are
   replaced by its answer. The rules are the server's alone: this script only shows what it says. Without the
   script the same list shows as of the page's last load. */
(function () {
  "use strict";
  var form = document.querySelector("form.case-form[data-check]");
  var live = document.getElementById("needs-live");
  var box = document.getElementById("document-needs");
  if (!form || !live || !box || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var DELAY = 400; // ms after the last key: one request per pause, not per key
  var timer = null;
  var asked = 0; // the number of the last request: an answer to an older one comes too late and is dropped

  function holder(input) {
    var element = input;
    while (element && element !== form) {
      if (element.tagName === "DIV" || element.tagName === "TD" || element.tagName === "FIELDSET") {
        return element;
      }
      element = element.parentNode;
    }
    return null;
  }

  function caption(place) {
    var i;
    for (i = 0; i < place.children.length; i += 1) {
      if (place.children[i].tagName === "LABEL" || place.children[i].tagName === "LEGEND") {
        return place.children[i];
      }
    }
    return null;
  }

  function unmark() {
    var marked = form.querySelectorAll(".still-needed");
    var marks = form.querySelectorAll(".still-needed-mark");
    var i;
    for (i = 0; i < marked.length; i += 1) {
      marked[i].className = marked[i].className.replace(/\s*\bstill-needed\b/g, "");
    }
    for (i = 0; i < marks.length; i += 1) {
      marks[i].parentNode.removeChild(marks[i]);
    }
  }

  function mark(fields) {
    var i, input, place, label, flag;
    unmark();
    for (i = 0; i < fields.length; i += 1) {
      input = fields[i].id ? document.getElementById(fields[i].id) : null;
      place = input && (input.tagName === "FIELDSET" ? input : holder(input));
      if (!place) {
        continue;
      }
      place.className += " still-needed";
      label = caption(place);
      if (label) {
        flag = document.createElement("span");
        flag.className = "still-needed-mark";
        flag.appendChild(document.createTextNode(box.getAttribute("data-mark")));
        label.appendChild(flag);
      }
    }
  }

  function warn(warnings) {
    var spans = form.querySelectorAll(".field-warning[data-live]");
    var i, name, text;
    for (i = 0; i < spans.length; i += 1) {
      name = spans[i].getAttribute("data-live");
      text = warnings[name] || "";
      spans[i].textContent = text;
      spans[i].hidden = !text;
    }
  }

  function show(answer) {
    live.innerHTML = answer.html; // rendered by the server's template, escaped there
    mark(answer.fields || []);
    warn(answer.warnings || {});
  }

  function ask() {
    var request = new XMLHttpRequest();
    var number = asked + 1;
    asked = number;
    request.open("POST", form.getAttribute("data-check"));
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      var type = request.getResponseHeader("Content-Type") || "";
      if (number !== asked || request.status !== 200 || type.indexOf("application/json") !== 0) {
        return; // signed out, a stale tab, a refusal: the list stays as it was, saving will say why
      }
      try {
        show(JSON.parse(request.responseText));
      } catch (ignored) {
        // an answer that is not the list: keep the one shown
      }
    };
    request.send(new FormData(form));
  }

  function later() {
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(ask, DELAY);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("click", function (event) {
    var target = event.target;
    if (target && (target.name === "add_member" || target.name === "remove_member")) {
      later(); // a row added or removed changes the household (and its ID numbers to fill)
    }
  });
}());
