/* The TV sign-in's on-screen keyboard: a remote types the email and the password with the
   arrows and Enter alone. The keys sit in a grid (data-row, data-col, data-span); the arrows
   move between them, Enter presses one, Backspace deletes the last character. A keyboard
   plugged into the TV still types: a character goes into the field being filled, and from
   there Enter goes on to the next field and then signs in, as before. */
(function () {
  "use strict";
  var osk = document.querySelector("[data-osk]");
  var form = document.querySelector("[data-sign-in]");
  if (!osk || !form) return;
  var email = form.querySelector("#tv-email");
  var password = form.querySelector("#tv-password");
  var fields = [email, password];
  var keys = Array.prototype.slice.call(osk.querySelectorAll(".key"));
  var fieldName = osk.querySelector("[data-osk-field]");
  var status = osk.querySelector("[data-osk-status]");
  var state = { target: email, shift: false, symbols: false, last: null };

  function number(el, name) { return Number(el.dataset[name]); }

  // The key covering that column of that row (keys may span several), or null past an edge.
  function keyAt(row, col) {
    for (var i = 0; i < keys.length; i++) {
      var key = keys[i], start = number(key, "col");
      if (number(key, "row") === row && start <= col && col < start + number(key, "span")) {
        return key;
      }
    }
    return null;
  }

  function keyFor(action) { return osk.querySelector('[data-action="' + action + '"]'); }
  var firstKey = keyAt(0, 0), shiftKey = keyFor("shift"), symbolsKey = keyFor("symbols");
  var showKey = keyFor("show"), nextKey = keyFor("next");

  function labelOf(field) { return form.querySelector('label[for="' + field.id + '"]').textContent; }

  // Says what the field holds now; a password only by its length, never its characters.
  function announce() {
    var field = state.target, count = field.value.length;
    status.textContent = field === password
      ? "Password: " + count + (count === 1 ? " character" : " characters")
      : labelOf(field) + ": " + (field.value || "empty");
  }

  function setTarget(field) {
    state.target = field;
    fields.forEach(function (each) { each.classList.toggle("osk-target", each === field); });
    fieldName.textContent = labelOf(field);
    nextKey.textContent = field === password ? "Sign In" : "Next";
    osk.dataset.target = field.name;
  }

  function changed(field) {
    field.dispatchEvent(new Event("input", { bubbles: true }));
    announce();
  }

  function insert(text) {
    state.target.value += text;
    changed(state.target);
  }

  function deleteLast() {
    var field = state.target;
    if (!field.value) return false;
    field.value = field.value.slice(0, -1);
    changed(field);
    return true;
  }

  // The faces follow Shift and the symbols page; each key's name says what it types.
  function render() {
    keys.forEach(function (key) {
      if (key.dataset.action !== "char") return;
      var face = state.symbols ? key.dataset.symbol : key.dataset.char;
      key.textContent = state.shift ? face.toUpperCase() : face;
      var name = state.symbols ? key.dataset.symbolName : key.dataset.charName;
      if (name) key.setAttribute("aria-label", name);
      else key.removeAttribute("aria-label");
    });
    shiftKey.setAttribute("aria-pressed", String(state.shift));
    symbolsKey.textContent = state.symbols ? "abc" : "#+=";
    symbolsKey.setAttribute("aria-label", state.symbols ? "Letters" : "Symbols");
    osk.dataset.page = state.symbols ? "symbols" : "letters";
    osk.dataset.shift = String(state.shift);
  }

  function toggleShown() {
    var show = password.type === "password";
    password.type = show ? "text" : "password";
    showKey.textContent = show ? "Hide" : "Show";
    showKey.setAttribute("aria-label", show ? "Hide password" : "Show password");
    status.textContent = show ? "Password shown" : "Password hidden";
  }

  function next() {
    if (state.target === password) return form.requestSubmit();
    setTarget(password);
    announce();
  }

  function press(key) {
    switch (key.dataset.action) {
      case "char":
        insert(key.textContent);
        if (state.shift) { state.shift = false; render(); }  // Shift holds for one letter
        return;
      case "text": return insert(key.dataset.char);
      case "space": return insert(" ");
      case "delete": return deleteLast();
      case "shift": state.shift = !state.shift; state.symbols = false; return render();
      case "symbols": state.symbols = !state.symbols; state.shift = false; return render();
      case "show": return toggleShown();
      case "next": return next();
    }
  }

  function toKeys() {
    var key = state.last || firstKey;
    key.focus();
  }

  // A plugged-in keyboard's character: into the field being filled, and on typing there.
  function typeThere(character) {
    var field = state.target;
    field.focus();
    field.value += character;
    field.setSelectionRange(field.value.length, field.value.length);
    field.dataset.typed = "1";
    changed(field);
  }

  function handled(event) {
    event.preventDefault();
    event.stopPropagation();  // tv.js's own arrows are for the other screens
  }

  osk.addEventListener("keydown", function (event) {
    var key = event.target.closest(".key");
    if (!key || event.altKey || event.ctrlKey || event.metaKey) return;
    var row = number(key, "row"), col = number(key, "col"), to = null;
    switch (event.key) {
      case "ArrowUp": to = keyAt(row - 1, col); break;
      case "ArrowDown": to = keyAt(row + 1, col); break;
      case "ArrowLeft": to = col === 0 ? state.target : keyAt(row, col - 1); break;
      case "ArrowRight": to = keyAt(row, col + number(key, "span")); break;
      case "Backspace":
        handled(event);
        // Nothing left to delete in the password: back to the email, as a TV's Back does.
        if (!deleteLast() && state.target === password) { setTarget(email); announce(); }
        return;
      default:
        // Space stays the key's own: it presses the focused key, as on any button.
        if (event.key.length === 1 && event.key !== " ") { handled(event); typeThere(event.key); }
        return;
    }
    handled(event);
    if (to) to.focus();  // past an edge the focus stays where it is
  });

  osk.addEventListener("click", function (event) {
    var key = event.target.closest(".key");
    if (key) press(key);
  });
  osk.addEventListener("focusin", function (event) {
    if (event.target.classList.contains("key")) state.last = event.target;
  });

  fields.forEach(function (field) {
    field.addEventListener("focus", function () {
      delete field.dataset.typed;
      setTarget(field);
    });
    field.addEventListener("input", function (event) {
      if (event.isTrusted) field.dataset.typed = "1";
    });
    field.addEventListener("keydown", function (event) {
      var atEnd = field.selectionStart === field.value.length
        && field.selectionEnd === field.value.length;
      // Reached with the arrows, Enter chooses the field to fill with the keys; once typed
      // in, Enter goes on to the next field (tv.js) or signs in (the form).
      if (event.key === "Enter" && !field.dataset.typed) { handled(event); toKeys(); }
      else if (event.key === "ArrowRight" && atEnd) { handled(event); toKeys(); }
    });
  });

  // Never leave a shown password in the form's history as plain text.
  form.addEventListener("submit", function () { password.type = "password"; });

  osk.hidden = false;
  email.removeAttribute("data-autofocus");
  firstKey.setAttribute("data-autofocus", "");  // tv.js focuses it when the page shows
  // Back after a wrong password: the email is kept, so the password is next to fill.
  setTarget(email.value ? password : email);
  render();
})();
