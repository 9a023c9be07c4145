/* The ledger import page (templates/archives/import.html): 检查 is sent in the background and its answer shown in
   place, so that the file stays chosen and 导入 sends it without the cadre finding it again. Without this script
   (or when the background request fails) the form posts as usual and the page asks for the file again.
   Plain ES5, for the old browsers of union offices. */
(function () {
  "use strict";
  var form = document.getElementById("ledger-form");
  if (!form || !window.FormData || !window.DOMParser || !window.XMLHttpRequest) {
    return;
  }
  var check = form.querySelector("button[value=check]");
  var clicked = null;
  form.addEventListener("click", function (event) {
    clicked = event.target.closest ? event.target.closest("button") : event.target;
  });
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter || clicked;
    if (submitter !== check) {
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    data.append("action", "check");
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action"));  // form.action is the buttons named "action"
    request.onload = function () {
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      if (!page.getElementById("ledger-form")) {  // not the import page (signed out meanwhile, a server error)
        form.submit();
        return;
      }
      show(page);
    };
    request.onerror = function () {
      form.submit();  // posts as 检查 (no action given is a dry run)
    };
    request.onloadend = function () {
      check.disabled = false;
      check.removeAttribute("aria-busy");
    };
    check.disabled = true;
    check.setAttribute("aria-busy", "true");
    request.send(data);
  });

  // The answer's messages and table of bad cells in place of the last ones; the form itself, and its file, stay.
  function show(page) {
    var ids = ["ledger-error", "ledger-ok", "ledger-problems"];
    for (var i = 0; i < ids.length; i += 1) {
      var old = document.getElementById(ids[i]);
      if (old) {
        old.parentNode.removeChild(old);
      }
    }
    var section = form.parentNode;
    var message = page.getElementById("ledger-error") || page.getElementById("ledger-ok");
    if (message) {
      var again = message.querySelector("[data-without-script]");
      var kept = message.querySelector("[data-with-script]");
      if (again && kept) {
        again.parentNode.removeChild(again);
        kept.removeAttribute("hidden");
      }
      section.insertBefore(document.importNode(message, true), form);
    }
    var problems = page.getElementById("ledger-problems");
    if (problems) {
      section.parentNode.insertBefore(document.importNode(problems, true), section.nextSibling);
    }
    var shown = document.getElementById("ledger-ok") || document.getElementById("ledger-error");
    if (shown) {
      shown.scrollIntoView({block: "center"});
    }
  }
})();
