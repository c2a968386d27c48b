// Picking a stay on the property page's calendar: the first tap sets check-in, the second check-out.
// The date inputs of #stay-form stay the source of truth (and work without this file); setting them fires
// "change" on the form, which htmx turns into a request for the live quote.
(function () {
  "use strict";

  function stayForm() {
    return document.getElementById("stay-form");
  }

  function markStay() {
    var form = stayForm();
    if (!form) return;
    var checkIn = form.elements.check_in.value;
    var checkOut = form.elements.check_out.value;
    var days = document.querySelectorAll("#availability-calendar [data-day]");
    for (var i = 0; i < days.length; i++) {
      var day = days[i].getAttribute("data-day");
      var state = "";
      if (day === checkIn) state = "check-in";
      else if (day === checkOut && checkIn) state = "check-out";
      else if (checkIn && checkOut && day > checkIn && day < checkOut) state = "stay";
      days[i].setAttribute("data-state", state);
      days[i].setAttribute("aria-pressed", state === "check-in" || state === "check-out" ? "true" : "false");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#availability-calendar [data-day]");
    var form = stayForm();
    if (!button || !form || button.disabled) return;
    var day = button.getAttribute("data-day");
    var checkIn = form.elements.check_in;
    var checkOut = form.elements.check_out;
    // ISO dates compare correctly as strings.
    if (!checkIn.value || checkOut.value || day <= checkIn.value) {
      checkIn.value = day;
      checkOut.value = "";
    } else {
      checkOut.value = day;
    }
    markStay();
    checkOut.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("change", function (event) {
    var form = stayForm();
    if (form && event.target.form === form) markStay();
  });
  document.addEventListener("htmx:afterSwap", markStay);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markStay);
  } else {
    markStay();
  }
})();
