// Where the keyboard focus goes when htmx replaces part of a page, and when a refused form comes back.
// - A region that comes back with an error summary ([data-error-summary]) gets the focus on its summary, as does a
//   whole page that loads with one.
// - Otherwise, when the swap replaced the element that had the focus, the focus goes back to the same control in
//   the new content ("Next month" stays on "Next month"), or, when that control is gone, to the region's heading.
// - New content that asks for the focus itself (autofocus) keeps it.
(function () {
  "use strict";

  // What each swap in flight replaces, by its region's id: two swaps at once (the reviews loading while a month
  // changes) must not take each other's record.
  var pending = {};

  function regionId(event) {
    var target = event.detail && event.detail.target;
    return (target && target.id) || "";
  }

  function keyOf(element) {
    if (!element || element === document.body || element === document.documentElement) return null;
    return {
      tag: element.tagName,
      id: element.id,
      label: element.getAttribute("aria-label"),
      name: element.getAttribute("name"),
      value: element.getAttribute("value"),
      day: element.getAttribute("data-day") || element.getAttribute("data-night"),
      rel: element.getAttribute("rel"),
      text: (element.textContent || "").trim(),
    };
  }

  function matches(element, key) {
    if (key.id) return element.id === key.id;
    if (key.day) return (element.getAttribute("data-day") || element.getAttribute("data-night")) === key.day;
    if (key.label) return element.getAttribute("aria-label") === key.label;
    if (key.rel) return element.getAttribute("rel") === key.rel;
    if (key.name) return element.getAttribute("name") === key.name && element.getAttribute("value") === key.value;
    return Boolean(key.text) && (element.textContent || "").trim() === key.text;
  }

  function sameControl(region, key) {
    var candidates = region.querySelectorAll(key.tag);
    for (var i = 0; i < candidates.length; i++) {
      if (matches(candidates[i], key) && !candidates[i].disabled && candidates[i].offsetParent !== null) {
        return candidates[i];
      }
    }
    return null;
  }

  function focusQuietly(element) {
    if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: false });
  }

  function focusSummary(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (!summary) return false;
    focusQuietly(summary);
    return true;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    pending[regionId(event)] = {
      id: target && target.id,
      key: target && active && (target === active || target.contains(active)) ? keyOf(active) : null,
    };
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var id = regionId(event);
    var swap = pending[id];
    delete pending[id];
    if (!swap) return;
    var region = (swap.id && document.getElementById(swap.id)) || event.target;
    if (!region || !region.querySelector) return;
    if (region.querySelector("[autofocus]")) return;
    if (focusSummary(region)) return;
    if (!swap.key) return;
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var control = sameControl(region, swap.key);
    if (control) {
      control.focus();
      return;
    }
    var heading = region.matches("h1, h2, h3, h4") ? region : region.querySelector("h1, h2, h3, h4, legend");
    focusQuietly(heading || region);
  });

  function onLoad() {
    focusSummary(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onLoad);
  } else {
    onLoad();
  }
})();
