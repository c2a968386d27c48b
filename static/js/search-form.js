// Search on a phone: the form folds under its one-line summary ("Diani · 12 Dec – 15 Dec · 2 guests", "Edit
// search"). Once a search is sent from the opened form and its results arrive, the form folds again, so that the
// first result is on screen, and the focus goes to the summary (the button that sent it is no longer shown).
// Changing a field also searches, but leaves the form open: the person is still choosing.
(function () {
  "use strict";

  var sent = false;

  document.addEventListener("submit", function (event) {
    if (event.target && event.target.id === "search-form") sent = true;
  });

  // htmx has swapped the response in by the time it reports the request as done.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!sent || !form || form.id !== "search-form" || !event.detail.xhr || !event.detail.xhr.status) return;
    sent = false; // answered (a request replaced by a newer one has no status)
    var details = form.closest("details[data-search-edit]");
    var summary = details && details.querySelector("summary");
    if (!details || !details.open || !summary || getComputedStyle(summary).display === "none") return;
    if (event.detail.xhr.status !== 200) return; // a refused search stays open on its errors
    details.open = false;
    summary.focus();
    window.scrollTo(0, 0);
  });
})();
