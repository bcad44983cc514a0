/* The TV's keypad for a two-step code: digits with the remote's arrows and Enter, or its
   number keys straight into the field. Without this script the field is a plain input. */
(function () {
  "use strict";
  var form = document.querySelector("[data-keypad-form]");
  if (!form) return;
  var field = form.querySelector("#tv-code");
  var pad = form.querySelector("[data-keypad]");
  pad.hidden = false;
  var keys = Array.prototype.slice.call(pad.querySelectorAll(".key"));
  pad.addEventListener("click", function (event) {
    var key = event.target.closest(".key");
    if (!key) return;
    if (key.dataset.digit && field.value.length < 6) field.value += key.dataset.digit;
    if (key.hasAttribute("data-erase")) field.value = field.value.slice(0, -1);
  });
  // Arrows move between keys in the 3-wide grid.
  pad.addEventListener("keydown", function (event) {
    var at = keys.indexOf(document.activeElement);
    if (at < 0) return;
    var moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -3, ArrowDown: 3 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    var next = Math.min(keys.length - 1, Math.max(0, at + moves[event.key]));
    keys[next].focus();
  });
  keys[0].focus();
})();
