/* The 打印 button of the printables. The Content-Security-Policy forbids inline handlers, so it is wired here. */
(function () {
  var buttons = document.querySelectorAll('[data-print]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener('click', function () { window.print(); });
  }
})();
