// Video visits: the server decides when "Join video visit" appears (10 minutes before the start).
// A page open before then reloads itself at that moment, so the button shows without a tap.
(function () {
  "use strict";
  document.querySelectorAll("[data-join-opens-in]").forEach(function (el) {
    var seconds = parseInt(el.getAttribute("data-join-opens-in"), 10);
    if (isNaN(seconds) || seconds > 6 * 60 * 60) {
      return; // hours away: no point keeping a timer
    }
    window.setTimeout(function () {
      window.location.reload();
    }, (seconds + 2) * 1000);
  });
})();
