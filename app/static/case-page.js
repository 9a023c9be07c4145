/* The case page (templates/cases/show.html).
   A page answering a POST (a refusal shown beside its form, a revealed number) takes the case page's own address,
   at the form's fragment: a reload then reads the case again instead of posting again (no second audited reveal,
   no second refused action). On a wide screen the process diagram starts unfolded. */
(function () {
  var head = document.querySelector('.case-head[data-address]');
  if (head && window.history && window.history.replaceState) {
    window.history.replaceState(null, '', head.getAttribute('data-address'));
  }
  var diagram = document.getElementById('diagram');
  if (diagram && window.matchMedia && window.matchMedia('(min-width: 901px)').matches) {
    diagram.open = true;
  }
})();
