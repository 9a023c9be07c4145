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

  function addRow() {
    var holder = document.createElement("tbody");
    holder.innerHTML = prototype.innerHTML.replace(/__i__/g, String(next));
    next += 1;
    var row = holder.querySelector("tr");
    body.appendChild(row);
    var first = row.querySelector("input[type=text]");
    if (first) {
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
