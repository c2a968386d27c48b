// The hold countdown on the trip page: "Pay within 12:41 to keep these dates".
// The server writes the seconds left into data-countdown-seconds; this only counts down from page load,
// so a wrong phone clock cannot make the hold look longer or shorter than it is.
(function () {
  "use strict";

  function format(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function start(element) {
    if (element.hasAttribute("data-countdown-started")) return;
    element.setAttribute("data-countdown-started", "");
    var total = parseInt(element.getAttribute("data-countdown-seconds"), 10);
    var clock = element.querySelector("[data-countdown-clock]");
    if (isNaN(total) || !clock) return;
    var endsAt = Date.now() + total * 1000;
    var timer = null;

    function tick() {
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      clock.textContent = format(left);
      if (left > 0) return;
      if (timer !== null) window.clearInterval(timer);
      var finished = element.getAttribute("data-countdown-finished-text");
      if (finished) element.textContent = finished;
      element.setAttribute("data-countdown-finished", "true");
    }

    tick();
    if (total > 0) timer = window.setInterval(tick, 1000);
  }

  function startAll(root) {
    var elements = (root || document).querySelectorAll("[data-countdown-seconds]");
    for (var i = 0; i < elements.length; i++) start(elements[i]);
  }

  // The payment panel is swapped in by htmx while it polls: start the countdowns it brings.
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.querySelectorAll) startAll(event.detail.elt);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { startAll(document); });
  } else {
    startAll(document);
  }
})();
