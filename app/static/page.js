/* Every page (loaded by base.html, before keep.js).

   1. A page answering a POST (a refusal shown beside its form, a number revealed, a password shown once) carries
      its page's own address in <main data-address> (app/respond.py page_address, or the template's own_address):
      it takes that address, at the fragment the address names or else at the one its form's action named, so that
      a reload reads the page again instead of posting again.
   2. The messages of the last action (flashed at the top of <main>, data-flashed) are moved to the place the page
      opens at (its #fragment: the form that was used), where the eye is; without this script, or without a
      fragment, they stay at the top.
   Plain ES5, for the old browsers of union offices. */
(function () {
  "use strict";
  var main = document.querySelector("main[data-address]");
  if (main && window.history && window.history.replaceState) {
    var address = main.getAttribute("data-address");
    window.history.replaceState(null, "", address.indexOf("#") < 0 ? address + location.hash : address);
  }

  var flashed = document.querySelectorAll("main > .flash[data-flashed]");
  var id = location.hash.slice(1);
  var target = null;
  if (!flashed.length || !id) {
    return;
  }
  try {
    target = document.getElementById(decodeURIComponent(id));
  } catch (e) {
    return;
  }
  if (!target || target.tagName === "MAIN") {
    return;
  }
  var heading = /^(H1|H2|H3|H4|SUMMARY|LEGEND)$/;
  var inside = !/^(INPUT|SELECT|TEXTAREA|BUTTON|TABLE|TR|TBODY|UL|OL)$/.test(target.tagName) &&
    !(target.tagName === "DETAILS" && !target.open);
  var first = target.firstElementChild;
  var parent = inside ? target : target.parentNode;
  var before = !inside ? target : first && heading.test(first.tagName) ? first.nextSibling : first;
  for (var i = 0; i < flashed.length; i += 1) {
    parent.insertBefore(flashed[i], before);
    flashed[i].className += " moved";
  }
  // The messages left the top: the place moved up by their height, so open it again.
  (inside ? target : flashed[0]).scrollIntoView();
})();
