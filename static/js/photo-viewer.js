// The property page's photo viewer: a full-screen <dialog> over the gallery. Each gallery photo is a plain link to
// its stored image (that is what happens without this file); here a click opens the viewer at that photo instead.
// The large image is loaded only when its photo is shown. Arrow keys and the ‹ › buttons move, a swipe moves on
// touch screens, Escape (the dialog's own cancel) and ✕ close, and focus returns to the photo that opened it.
(function () {
  "use strict";

  var SWIPE_PX = 40;
  var dialog, photos, index, opener, swipeX, swipeY;

  function part(name) {
    return dialog.querySelector("[data-viewer-" + name + "]");
  }

  function show(i) {
    index = (i + photos.length) % photos.length;
    var link = photos[index];
    var caption = link.getAttribute("data-caption") || "";
    var image = part("image");
    image.src = link.getAttribute("data-full");
    image.alt = caption || "Photo " + (index + 1) + " of " + photos.length;
    part("counter").textContent = index + 1 + " / " + photos.length;
    part("caption").textContent = caption;
    var single = photos.length < 2;
    part("prev").hidden = single;
    part("next").hidden = single;
  }

  function open(link) {
    photos = Array.prototype.slice.call(document.querySelectorAll("[data-viewer-photo]"));
    opener = link;
    show(photos.indexOf(link));
    dialog.showModal();
    part("close").focus();
  }

  function init() {
    dialog = document.getElementById("photo-viewer");
    if (!dialog || typeof dialog.showModal !== "function") return; // old browsers keep the plain links

    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-viewer-photo]");
      if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
      event.preventDefault();
      open(link);
    });
    part("close").addEventListener("click", function () {
      dialog.close();
    });
    part("prev").addEventListener("click", function () {
      show(index - 1);
    });
    part("next").addEventListener("click", function () {
      show(index + 1);
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") {
        event.preventDefault();
        show(index - 1);
      } else if (event.key === "ArrowRight") {
        event.preventDefault();
        show(index + 1);
      }
    });
    dialog.addEventListener("close", function () {
      part("image").removeAttribute("src");
      if (opener) opener.focus();
    });
    var stage = part("stage");
    stage.addEventListener("touchstart", function (event) {
      swipeX = event.changedTouches[0].clientX;
      swipeY = event.changedTouches[0].clientY;
    }, { passive: true });
    stage.addEventListener("touchend", function (event) {
      if (swipeX === undefined) return;
      var dx = event.changedTouches[0].clientX - swipeX;
      var dy = event.changedTouches[0].clientY - swipeY;
      swipeX = undefined;
      if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > Math.abs(dy)) show(dx < 0 ? index + 1 : index - 1);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
