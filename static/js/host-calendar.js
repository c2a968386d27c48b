// The host's calendar editor: tapping a day selects that night, tapping a later day selects the range between,
// and the next tap starts again. The choice is written into the form's date inputs, which are also the way to
// choose nights without JavaScript; the server marks the chosen nights again whenever it re-renders the grid.
(function () {
  "use strict";

  function inputs(root) {
    return {
      first: root.querySelector("input[name=first_night]"),
      last: root.querySelector("input[name=last_night]"),
    };
  }

  function label(iso) {
    return new Date(iso + "T00:00:00Z").toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  function paint(root) {
    const { first, last } = inputs(root);
    const from = first && first.value;
    const to = (last && last.value) || from;
    root.querySelectorAll("[data-night]").forEach(function (day) {
      const night = day.dataset.night;
      const chosen = Boolean(from) && night >= from && night <= to;
      day.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    root.setAttribute("data-selection", from ? "yes" : "no");
    if (from) keepInSight(root);
    const summary = root.querySelector("[data-selection-summary]");
    if (summary) {
      const nights = from ? Math.round((Date.parse(to) - Date.parse(from)) / 86400000) + 1 : 0;
      const dates = !from ? "" : ": " + label(from) + (to !== from ? " – " + label(to) : "");
      summary.textContent =
        (!from ? "Choose nights" : nights === 1 ? "1 night chosen" : nights + " nights chosen") + dates;
    }
  }

  // On a phone the actions are a sheet over the bottom of the screen: the last chosen night (or the first, when the
  // range is taller than the room left) is scrolled above it.
  function keepInSight(root) {
    const sheet = root.querySelector("[data-calendar-actions]");
    const chosen = root.querySelectorAll('[data-night][aria-pressed="true"]');
    if (!sheet || !chosen.length || getComputedStyle(sheet).position !== "fixed") return;
    const top = sheet.getBoundingClientRect().top;
    const first = chosen[0].getBoundingClientRect();
    const last = chosen[chosen.length - 1].getBoundingClientRect();
    const below = last.bottom + 8 - top;
    if (below > 0) window.scrollBy(0, Math.min(below, Math.max(first.top - 8, 0)));
    else if (first.top < 0) window.scrollBy(0, first.top - 8);
  }

  // Arrow keys move between days (a week up or down; a day when large text makes the month a list); Home and End go
  // to the first and last day of the month.
  function isList(root) {
    const grid = root.querySelector("[data-nights-grid]");
    return Boolean(grid) && getComputedStyle(grid).gridTemplateColumns.trim().split(/\s+/).length === 1;
  }

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  document.addEventListener("keydown", function (event) {
    const day = event.target.closest && event.target.closest("[data-host-calendar] [data-night]");
    if (!day || event.altKey || event.ctrlKey || event.metaKey) return;
    const root = day.closest("[data-host-calendar]");
    const week = isList(root) ? 1 : 7;
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -week, ArrowDown: week };
    let target = null;
    if (event.key in steps) {
      const date = new Date(day.dataset.night + "T00:00:00Z");
      date.setUTCDate(date.getUTCDate() + steps[event.key]);
      target = root.querySelector('[data-night="' + isoDay(date) + '"]');
    } else if (event.key === "Home" || event.key === "End") {
      const days = root.querySelectorAll("[data-night]");
      target = event.key === "Home" ? days[0] : days[days.length - 1];
    } else {
      return;
    }
    event.preventDefault();
    if (target) target.focus();
  });

  document.addEventListener("click", function (event) {
    const clear = event.target.closest && event.target.closest("[data-clear-selection]");
    const root = clear && clear.closest("[data-host-calendar]");
    if (!root) return;
    const { first, last } = inputs(root);
    first.value = "";
    last.value = "";
    paint(root);
    const chosen = root.querySelector("[data-night]:not([disabled])");
    if (chosen) chosen.focus();
  });

  document.addEventListener("click", function (event) {
    const day = event.target.closest("[data-night]");
    const root = day && day.closest("[data-host-calendar]");
    if (!root || day.disabled) {
      return;
    }
    const { first, last } = inputs(root);
    const night = day.dataset.night;
    const single = first.value && (!last.value || last.value === first.value);
    if (single && night > first.value) {
      last.value = night;
    } else {
      first.value = night;
      last.value = night;
    }
    paint(root);
  });

  // Moving to another month swaps the whole grid; the nights chosen so far come along, so that a range can
  // start in one month and end in the next.
  let carried = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    const source = event.detail.elt;
    const root = source && source.closest && source.closest("[data-host-calendar]");
    if (!root || event.detail.requestConfig.verb !== "get") {
      carried = null;
      return;
    }
    const { first, last } = inputs(root);
    carried = first && first.value ? { first: first.value, last: last.value } : null;
  });

  document.addEventListener("htmx:afterSwap", function () {
    const root = document.querySelector("[data-host-calendar]");
    if (carried && root) {
      const { first, last } = inputs(root);
      if (first && !first.value) {
        first.value = carried.first;
        last.value = carried.last;
      }
      paint(root);
    }
    carried = null;
  });

  document.addEventListener("change", function (event) {
    const root = event.target.closest && event.target.closest("[data-host-calendar]");
    if (root && (event.target.name === "first_night" || event.target.name === "last_night")) {
      paint(root);
    }
  });
})();
