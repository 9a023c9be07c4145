/* The ledger import page (templates/archives/import.html): 检查 is sent in the background and its answer shown in
   place, so that the file stays chosen and 导入 sends it without the cadre finding it again. Before either is sent
   the chosen file is read once: a file edited or moved since it was chosen cannot be sent (the browser would show
   its own error page), so the page asks for it to be chosen again. Without this script (or when the background
   request fails) the form posts as usual and the page asks for the file again after a check.
   Plain ES5, for the old browsers of union offices. */
(function () {
  "use strict";
  var form = document.getElementById("ledger-form");
  if (!form || !window.FormData || !window.DOMParser || !window.XMLHttpRequest) {
    return;
  }
  var file = document.getElementById("ledger-file");
  var reread = document.getElementById("ledger-reread");
  var failed = document.getElementById("ledger-failed");
  var check = form.querySelector("button[value=check]");
  var clicked = null;
  var sending = false;  // a second click while the first is on its way sends nothing more

  form.addEventListener("click", function (event) {
    clicked = event.target.closest ? event.target.closest("button") : event.target;
  });
  // Another file: what was said of the last one no longer holds.
  file.addEventListener("change", clear);

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter || clicked;
    var importing = submitter && submitter.value === "import";
    event.preventDefault();
    if (sending) {
      return;
    }
    sending = true;
    readable(function (ok) {
      if (!ok) {
        sending = false;
        clear();
        file.value = "";
        say(reread);
      } else if (importing) {
        busy(true);
        var action = document.createElement("input");  // form.submit() sends no button's name and value
        action.type = "hidden";
        action.name = "action";
        action.value = "import";
        form.appendChild(action);
        form.submit();
      } else {
        send();
      }
    });
  });

  // Whether the chosen file can still be read (one byte of it, as the browser will send it).
  function readable(done) {
    var chosen = file.files && file.files[0];
    if (!chosen || !window.FileReader) {
      done(true);
      return;
    }
    var reader = new FileReader();
    reader.onload = function () { done(true); };
    reader.onerror = function () { done(false); };
    reader.readAsArrayBuffer(chosen.slice(0, 1));
  }

  function send() {
    var data = new FormData(form);
    data.append("action", "check");
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action"));  // form.action is the buttons named "action"
    request.onload = function () {
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      var answer = page.getElementById("ledger-form");
      if (!answer) {  // not the import page: a server's error page, the sign-in page, a proxy's refusal
        say(failed);
        return;
      }
      // The form's token as the server has it now (signing in again in another tab renews it).
      var token = answer.querySelector("input[name=csrf_token]");
      if (token) {
        form.querySelector("input[name=csrf_token]").value = token.value;
      }
      show(page);
    };
    request.onerror = function () {
      say(failed);
    };
    request.onloadend = function () {
      sending = false;
      busy(false);
    };
    busy(true);
    request.send(data);
  }

  function busy(on) {
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].disabled = on;
    }
    if (on) {
      check.setAttribute("aria-busy", "true");
    } else {
      check.removeAttribute("aria-busy");
    }
  }

  function clear() {
    var old = document.querySelectorAll("#ledger-error, #ledger-ok, #ledger-problems, [data-answer]");
    for (var i = 0; i < old.length; i += 1) {
      old[i].parentNode.removeChild(old[i]);
    }
    reread.setAttribute("hidden", "");
    failed.setAttribute("hidden", "");
  }

  // One of the page's own messages (hidden until needed), read out and in view.
  function say(message) {
    clear();
    message.removeAttribute("hidden");
    focus(message);
  }

  // Focus on a message just shown: a screen reader reads it, and the keyboard goes on from there (the button that
  // had the focus was disabled while the check ran).
  function focus(message) {
    message.setAttribute("tabindex", "-1");
    message.focus();
    message.scrollIntoView({block: "center"});
  }

  // The answer's messages and table of bad cells in place of the last ones; the form itself, and its file, stay.
  function show(page) {
    clear();
    var section = form.parentNode;
    // The check's verdict; or else what the server said instead (a form that had expired, say).
    var message = page.getElementById("ledger-error") || page.getElementById("ledger-ok") ||
      page.querySelector("main > .flash");
    if (!message) {
      say(failed);
      return;
    }
    var again = message.querySelector("[data-without-script]");
    var kept = message.querySelector("[data-with-script]");
    if (again && kept) {
      again.parentNode.removeChild(again);
      kept.removeAttribute("hidden");
    }
    var shown = document.importNode(message, true);
    shown.setAttribute("data-answer", "");
    section.insertBefore(shown, form);
    var problems = page.getElementById("ledger-problems");
    if (problems) {
      section.parentNode.insertBefore(document.importNode(problems, true), section.nextSibling);
    }
    focus(form.previousElementSibling);
  }
})();
