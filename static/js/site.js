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
// The days page opens a day's times in place (an anchor and :target, no request); this marks
// which day is open, for the eye and for screen readers. Without it the times still open.
(function () {
  "use strict";
  function markOpenDay() {
    var links = document.querySelectorAll(".day-grid a.day-free");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("href") === window.location.hash) {
        links[i].setAttribute("aria-current", "date");
      } else {
        links[i].removeAttribute("aria-current");
      }
    }
  }
  window.addEventListener("hashchange", markOpenDay);
  document.addEventListener("DOMContentLoaded", markOpenDay);
})();
