// Warns two minutes before the server ends an idle session, and offers to keep it.
// The server (concierge.middleware.IdleTimeoutMiddleware) decides; this only tells the person.
(function () {
  "use strict";
  var meta = document.querySelector("meta[name=idle-timeout]");
  var box = document.getElementById("idle-warning");
  if (!meta || !box) { return; }
  var timeoutMs = parseInt(meta.content, 10) * 1000;
  var warnBeforeMs = 120 * 1000;
  var warnTimer, expireTimer;

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    box.hidden = true;
    warnTimer = setTimeout(function () {
      box.hidden = false;
      document.getElementById("idle-warning-stay").focus();
    }, Math.max(timeoutMs - warnBeforeMs, 0));
    // A moment after the server's limit, reload: the server sends the login page.
    expireTimer = setTimeout(function () { window.location.reload(); }, timeoutMs + 2000);
  }

  document.getElementById("idle-warning-stay").addEventListener("click", function () {
    var token = document.querySelector("meta[name=csrf-token]");
    fetch(meta.dataset.keepaliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": token ? token.content : ""}
    }).then(function (response) {
      if (response.ok) { schedule(); } else { window.location.reload(); }
    });
  });

  // Any request this page makes through htmx counts as activity on the server too.
  document.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
