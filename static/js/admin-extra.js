// Admin: a region that scrolls sideways (a wide inline table, a long changelist) can be reached and
// scrolled with the keyboard (WCAG 2.1.1; axe scrollable-region-focusable), named by its heading.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("#content-main .inline-group, #content-main .results, #content-main .module").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.tabIndex = 0;
        var heading = el.querySelector("h2, caption");
        if (heading && !el.hasAttribute("aria-label")) {
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", heading.textContent.trim());
        }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mark); } else { mark(); }
  window.addEventListener("resize", mark);
})();
