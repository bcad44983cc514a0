/* Signed-in pages, website and TV alike: leave for the sign-in screen the moment this device
   is signed out elsewhere, and keep a playing stream's lease alive with heartbeats. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function post(url, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "x-csrftoken": csrf, accept: "application/json" },
    });
  }

  // Signed out elsewhere: the server's event stream says so, with the reason to show.
  var eventsUrl = document.body.dataset.events;
  if (eventsUrl && "EventSource" in window) {
    var source = null;
    var listen = function () {
      document.body.dataset.eventsState = "connecting";
      source = new EventSource(eventsUrl);
      source.addEventListener("open", function () { document.body.dataset.eventsState = "open"; });
      source.addEventListener("signed_out", function (event) {
        source.close();
        var data = JSON.parse(event.data);
        window.location.replace(data.location);
      });
      // Who can get in changed (two-step turned off, a passkey removed, new recovery codes):
      // every open page of the account says so, at the top.
      source.addEventListener("security_changed", function (event) {
        var data = JSON.parse(event.data);
        var main = document.querySelector("main");
        if (!main || !data.detail) return;
        var note = document.getElementById("security-changed") || document.createElement("div");
        note.id = "security-changed";
        note.className = "notice";
        note.setAttribute("role", "status");
        note.textContent = data.detail + " If that was not you, change your password now.";
        main.insertBefore(note, main.firstChild);
      });
      // This browser keeps a few streams; newer tabs took this one's place. Reconnecting now
      // would only push out another tab: listen again when this page is looked at.
      source.addEventListener("replaced", function () {
        source.close();
        document.body.dataset.eventsState = "replaced";
      });
    };
    listen();
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" &&
          document.body.dataset.eventsState === "replaced") listen();
    });
    window.addEventListener("pagehide", function () { source.close(); });
    // A form this page submits answers for itself (e.g. "You signed out of all 3 devices"):
    // its own sign-out, pushed at once, must not race that answer to the screen.
    document.addEventListener("submit", function () { source.close(); }, true);
  }

  // Passkeys: their script only where a page offers one, and only once the page is shown
  // (fetched after it, so the sign-in page a signed-out device lands on is not kept waiting).
  if (window.PublicKeyCredential &&
      document.querySelector("[data-passkey-sign-in], [data-passkey-add], [data-passkey-reauth]")) {
    var passkeys = document.createElement("script");
    passkeys.src = "/static/passkeys.js";
    document.head.appendChild(passkeys);
  }

  // The player: a heartbeat every interval keeps the screen; leaving the page gives it back.
  var stage = document.querySelector("[data-player]");
  if (!stage) return;
  var interval = Math.max(1, Number(stage.dataset.interval || 30)) * 1000;
  var ended = false;
  var started = Date.now();
  var endedBox = document.querySelector("[data-ended]");
  var progress = document.querySelector("[data-progress]");
  var elapsed = document.querySelector("[data-elapsed]");

  function finish(message) {
    ended = true;
    window.clearInterval(timer);
    window.clearInterval(clock);
    if (endedBox) {
      endedBox.textContent = message;
      endedBox.hidden = false;
    }
    document.dispatchEvent(new CustomEvent("screengate:ended"));
  }

  function beat() {
    post(stage.dataset.heartbeat).then(function (answer) {
      if (answer.ok) return;
      return answer.json().then(function (problem) {
        if (answer.status === 401 && problem.location) {
          window.location.replace(problem.location);
        } else {
          finish(problem.detail || "Playback has ended.");
        }
      });
    }).catch(function () { /* offline for a moment: the lease outlives a missed beat */ });
  }

  function tick() {
    var seconds = Math.floor((Date.now() - started) / 1000);
    if (progress) progress.style.width = Math.min(100, seconds / 6) + "%";
    if (elapsed) elapsed.textContent = "Playing for " + Math.floor(seconds / 60) + ":" +
      String(seconds % 60).padStart(2, "0") + ".";
  }

  var timer = window.setInterval(beat, interval);
  var clock = window.setInterval(tick, 1000);
  var form = document.querySelector("[data-stop-form]");
  if (form) form.addEventListener("submit", function () { ended = true; });
  window.addEventListener("pagehide", function () {
    if (!ended) post(stage.dataset.stop, true);
    ended = true;
  });
})();
