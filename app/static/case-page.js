/* The case page (templates/cases/show.html). Its address after a POST is static/page.js's (<main data-address>).
   On a wide screen the process diagram starts unfolded. Opened on a narrow one, where it is drawn at its size and
   scrolls in its own box, the box is scrolled so that the current state (aria-current="step" in the SVG,
   app/cases/diagram.py) is in view, not off to the right. */
(function () {
  var diagram = document.getElementById('diagram');
  if (!diagram) {
    return;
  }
  var unfolded = false; // opened by this script on a wide screen: the page is not scrolled for it
  function showCurrent() {
    var auto = unfolded;
    unfolded = false;
    var box = diagram.querySelector('.diagram');
    var current = box && box.querySelector('[aria-current="step"]');
    if (!diagram.open || !current || !current.getBoundingClientRect) {
      return;
    }
    var outer = box.getBoundingClientRect();
    var inner = current.getBoundingClientRect();
    if (box.scrollWidth > box.clientWidth) {
      box.scrollLeft += (inner.left + inner.width / 2) - (outer.left + box.clientWidth / 2);
      inner = current.getBoundingClientRect();
    }
    var height = window.innerHeight || document.documentElement.clientHeight;
    if (!auto && inner.bottom > height) {
      window.scrollBy(0, Math.min(inner.bottom - height + 16, inner.top - 16));
    }
  }
  diagram.addEventListener('toggle', showCurrent);
  if (window.matchMedia && window.matchMedia('(min-width: 901px)').matches) {
    unfolded = true;
    diagram.open = true;
  }
})();
