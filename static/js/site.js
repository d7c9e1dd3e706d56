// Site-wide behaviour. No inline scripts anywhere: the Content Security Policy forbids them.
(function () {
  "use strict";
  // htmx sends the CSRF token on every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("meta[name=csrf-token]");
    if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
  });
})();
// A "print" button (the receipt): window.print from a click, never an inline handler.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) { event.preventDefault(); window.print(); }
});
