// The hold on the checkout page, counting down. The server decides: this is only a clock.
(function () {
  "use strict";
  var box = document.querySelector("[data-hold-expires]");
  if (!box) { return; }
  var expires = Date.parse(box.getAttribute("data-hold-expires"));
  var running = box.querySelector("[data-hold-running]");
  var expired = box.querySelector("[data-hold-expired]");
  var counter = box.querySelector("[data-hold-countdown]");
  if (isNaN(expires) || !counter) { return; }

  function tick() {
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    counter.textContent = " (" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + ")";
    if (left === 0) {
      running.hidden = true;
      expired.hidden = false;
      box.classList.remove("alert-info");
      box.classList.add("alert-warning");
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
