// The host's photo list: drag a photo to a new place and the new order is saved in one request.
//
// Pointer Events serve mouse, pen and touch alike, so there is one code path; the HTML5 drag-and-drop API does
// not fire for touch in several phone browsers and draws its own drag image. With a mouse the whole card can be
// dragged (not its caption or buttons); on a touch screen only the handle, so the page still scrolls under a
// finger elsewhere. Dropping moves the card in the page, then the form #photo-order, which owns each card's
// hidden photo input, sends the ids in their new order (htmx, on the event photosReordered). The server answers
// with the photo list as saved. The up and down buttons stay for keyboards and for pages without JavaScript.
(function () {
  "use strict";

  const START_DISTANCE = 6; // px the pointer travels before a press becomes a drag
  const EDGE = 64; // px from the window's top or bottom edge where a drag scrolls the page
  const INTERACTIVE = "input, textarea, select, button, a, label, [contenteditable]";

  document.documentElement.setAttribute("data-photo-drag", "");

  let press = null; // a pointer that went down on a card and has not moved far enough yet
  let drag = null; // the drag in progress

  function orderForm() {
    return document.getElementById("photo-order");
  }

  // A new order is on its way to the server (htmx marks the form's indicator): no second drag until it is answered.
  function saving() {
    const indicator = document.getElementById("photo-order-saving");
    return Boolean(indicator && indicator.classList.contains("htmx-request"));
  }

  function cards(list) {
    return Array.from(list.querySelectorAll(":scope > [data-photo]"));
  }

  function startDrag(event) {
    const { card, list } = press;
    const image = card.querySelector("img");
    const ghost = document.createElement("div");
    ghost.className = "pointer-events-none fixed z-50 w-28 overflow-hidden rounded-md bg-white shadow-xl ring-2 ring-emerald-600";
    ghost.setAttribute("aria-hidden", "true");
    if (image) {
      const copy = document.createElement("img");
      copy.src = image.currentSrc || image.src;
      copy.alt = "";
      copy.className = "aspect-[3/2] w-full object-cover";
      ghost.appendChild(copy);
    }
    document.body.appendChild(ghost);

    const indicator = document.createElement("li");
    indicator.className = "h-1.5 rounded-full bg-emerald-600";
    indicator.setAttribute("data-drop-indicator", "");
    indicator.setAttribute("aria-hidden", "true");

    card.classList.add("opacity-40", "ring-2", "ring-emerald-600");
    document.documentElement.classList.add("cursor-grabbing", "select-none");
    drag = {
      card,
      list,
      ghost,
      indicator,
      pointerId: press.pointerId,
      originalNext: card.nextElementSibling,
      y: event.clientY,
      scrolling: 0,
    };
    press = null;
    try {
      card.setPointerCapture(drag.pointerId); // keep the pointer's events even outside the window
    } catch (error) {
      // the pointer is already gone; pointerup or pointercancel ends the drag
    }
  }

  function moveGhost(x, y) {
    drag.ghost.style.left = x + 12 + "px";
    drag.ghost.style.top = y + 12 + "px";
  }

  // The card the dragged one would be placed before (null: at the end), from the pointer's height.
  function cardAfter(y) {
    for (const other of cards(drag.list)) {
      if (other === drag.card) {
        continue;
      }
      const box = other.getBoundingClientRect();
      if (y < box.top + box.height / 2) {
        return other;
      }
    }
    return null;
  }

  function placeIndicator() {
    const before = cardAfter(drag.y);
    if (before === nextCard(drag.card)) {
      drag.indicator.remove(); // right above or below the dragged card: the order would not change
    } else if (drag.indicator.nextElementSibling !== before || !drag.indicator.isConnected) {
      drag.list.insertBefore(drag.indicator, before);
    }
  }

  function nextCard(card) {
    let next = card.nextElementSibling;
    while (next && !next.hasAttribute("data-photo")) {
      next = next.nextElementSibling;
    }
    return next;
  }

  // While the pointer is near the top or bottom of the window, scroll so that far places can be reached.
  function autoScroll() {
    if (!drag) {
      return;
    }
    const height = window.innerHeight;
    let step = 0;
    if (drag.y < EDGE) {
      step = -Math.ceil((EDGE - drag.y) / 4);
    } else if (drag.y > height - EDGE) {
      step = Math.ceil((drag.y - (height - EDGE)) / 4);
    }
    if (step) {
      window.scrollBy(0, step);
      placeIndicator();
      drag.scrolling = window.requestAnimationFrame(autoScroll);
    } else {
      drag.scrolling = 0;
    }
  }

  function finish(commit) {
    const current = drag;
    drag = null;
    window.cancelAnimationFrame(current.scrolling);
    current.ghost.remove();
    current.card.classList.remove("opacity-40", "ring-2", "ring-emerald-600");
    document.documentElement.classList.remove("cursor-grabbing", "select-none");
    const moved = commit && current.indicator.isConnected;
    if (moved) {
      current.list.insertBefore(current.card, current.indicator);
    }
    current.indicator.remove();
    if (moved) {
      save(current.card, current.list, current.originalNext);
    }
  }

  // --- Saving -------------------------------------------------------------------------------------------------

  function save(card, list, originalNext) {
    const form = orderForm();
    const status = document.querySelector("[data-photo-order-status]");
    if (status) {
      status.querySelectorAll(":scope > :not(.htmx-indicator)").forEach(function (node) {
        node.remove();
      });
    }
    form.addEventListener(
      "htmx:afterRequest",
      function (event) {
        if (event.detail.successful) {
          return; // the server's photo list, in the saved order, replaces this one
        }
        // No answer, or one that is not swapped in (a server error): show the order that is still stored.
        if (list.isConnected) {
          list.insertBefore(card, originalNext && originalNext.parentNode === list ? originalNext : null);
        }
        if (status && status.isConnected) {
          const message = document.createElement("span");
          message.setAttribute("role", "alert");
          message.className = "font-medium text-red-800";
          message.textContent = "The new order was not saved. Check your connection and try again.";
          status.appendChild(message);
        }
      },
      { once: true },
    );
    htmx.trigger(form, "photosReordered");
  }

  // --- Pointer events -----------------------------------------------------------------------------------------

  document.addEventListener("pointerdown", function (event) {
    if (drag || press || !event.isPrimary || event.button !== 0 || saving()) {
      return;
    }
    const list = event.target.closest && event.target.closest("[data-photo-sortable]");
    const card = list && event.target.closest("[data-photo]");
    if (!card || card.parentElement !== list || cards(list).length < 2) {
      return;
    }
    const onHandle = Boolean(event.target.closest("[data-drag-handle]"));
    if (!onHandle && (event.pointerType === "touch" || event.target.closest(INTERACTIVE))) {
      return;
    }
    if (onHandle) {
      event.preventDefault(); // no text selection or long-press menu starting on the handle
    }
    press = { card, list, pointerId: event.pointerId, x: event.clientX, y: event.clientY };
  });

  document.addEventListener("pointermove", function (event) {
    if (press && event.pointerId === press.pointerId) {
      if (Math.hypot(event.clientX - press.x, event.clientY - press.y) < START_DISTANCE) {
        return;
      }
      startDrag(event);
    }
    if (!drag || event.pointerId !== drag.pointerId) {
      return;
    }
    event.preventDefault();
    drag.y = event.clientY;
    moveGhost(event.clientX, event.clientY);
    placeIndicator();
    if (!drag.scrolling) {
      autoScroll();
    }
  });

  document.addEventListener("pointerup", function (event) {
    if (press && event.pointerId === press.pointerId) {
      press = null;
    }
    if (drag && event.pointerId === drag.pointerId) {
      drag.y = event.clientY;
      placeIndicator();
      finish(true);
    }
  });

  document.addEventListener("pointercancel", function (event) {
    if (press && event.pointerId === press.pointerId) {
      press = null;
    }
    if (drag && event.pointerId === drag.pointerId) {
      finish(false);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (drag && event.key === "Escape") {
      finish(false);
    }
  });

  // A touch that drags the handle must not scroll the page instead, and a mouse drag must not start the
  // browser's own drag of the picture or a text selection.
  document.addEventListener(
    "touchmove",
    function (event) {
      if (drag) {
        event.preventDefault();
      }
    },
    { passive: false },
  );
  ["dragstart", "selectstart"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (drag || press) {
        event.preventDefault();
      }
    });
  });
})();
