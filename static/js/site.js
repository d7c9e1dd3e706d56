// Site-wide behaviour. No inline scripts anywhere: the Content Security Policy forbids them.
(function () {
  "use strict";
  // htmx sends the CSRF token on every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("meta[name=csrf-token]");
    if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
  });
})();
