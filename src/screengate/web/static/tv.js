/* The TV app's remote: arrow keys move the focus to the nearest item in that direction,
   Enter chooses, Backspace goes back. Nothing here needs a mouse or a pointer. */
(function () {
  "use strict";
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden])";

  function candidates() {
    return Array.prototype.filter.call(document.querySelectorAll(FOCUSABLE), function (el) {
      var box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && !el.closest("[hidden]");
    });
  }

  function centre(el) {
    var box = el.getBoundingClientRect();
    return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
  }

  function focus(el) {
    if (!el) return;
    el.focus({ preventScroll: false });
    el.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  // The nearest item whose centre lies that way; sideways distance counts double.
  function move(dx, dy) {
    var current = document.activeElement;
    if (!current || current === document.body) return focus(first());
    var from = centre(current), best = null, bestScore = Infinity;
    candidates().forEach(function (el) {
      if (el === current) return;
      var to = centre(el), ax = to.x - from.x, ay = to.y - from.y;
      var along = dx ? ax * dx : ay * dy, across = dx ? Math.abs(ay) : Math.abs(ax);
      if (along <= 1) return;
      var score = along + across * 2;
      if (score < bestScore) { best = el; bestScore = score; }
    });
    focus(best);
  }

  function first() {
    return document.querySelector("[data-autofocus]") || candidates()[0];
  }

  function back() {
    var form = document.body.dataset.backForm && document.querySelector(document.body.dataset.backForm);
    if (form) return form.requestSubmit();
    var url = document.body.dataset.back;
    if (url) window.location.assign(url);
  }

  var pin = document.querySelector("[data-pin]");
  function typeDigit(digit) {
    if (!pin) return;
    var input = pin.querySelector("input[name=pin]");
    if (digit === "del") input.value = input.value.slice(0, -1);
    else if (input.value.length < 4) input.value += digit;
    pin.querySelectorAll(".pin-boxes span").forEach(function (box, i) {
      box.classList.toggle("filled", i < input.value.length);
    });
    if (input.value.length === 4) pin.requestSubmit();
  }
  if (pin) {
    pin.addEventListener("click", function (event) {
      var key = event.target.closest("[data-digit]");
      if (key) { event.preventDefault(); typeDigit(key.dataset.digit); }
    });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target, typing = target.tagName === "INPUT";
    switch (event.key) {
      case "ArrowUp": event.preventDefault(); return move(0, -1);
      case "ArrowDown": event.preventDefault(); return move(0, 1);
      case "ArrowLeft":
        if (typing) return;  // in a text field, left and right move the caret
        event.preventDefault(); return move(-1, 0);
      case "ArrowRight":
        if (typing) return;
        event.preventDefault(); return move(1, 0);
      case "Enter":
        // On a text field, Enter goes on to the next one, as a TV keyboard's "Next" does.
        if (typing && target.dataset.next) {
          event.preventDefault();
          return focus(document.querySelector(target.dataset.next));
        }
        return;
      case "Backspace":
        if (typing && target.value) return;  // deleting what was typed
        event.preventDefault();
        if (pin && pin.querySelector("input[name=pin]").value) return typeDigit("del");
        return back();
      default:
        if (pin && /^[0-9]$/.test(event.key)) { event.preventDefault(); typeDigit(event.key); }
    }
  });

  // The home screen's top shows the focused title.
  var hero = document.querySelector("[data-hero]");
  document.addEventListener("focusin", function (event) {
    var tile = event.target.closest("[data-title]");
    if (!hero || !tile) return;
    hero.querySelector("h1").textContent = tile.dataset.title;
    hero.querySelector("p").textContent = tile.dataset.about;
  });

  window.addEventListener("pageshow", function () { focus(first()); });
})();
