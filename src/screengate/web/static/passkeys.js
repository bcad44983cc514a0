/* Passkeys on the pages (WebAuthn): add one on Account → Security, sign in with one, or
   confirm it's you with one. The server sends options as JSON (base64url for bytes); the
   browser's answers go back the same way. A static file: the pages allow no inline script. */
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function bytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function text(buffer) {
    var view = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < view.length; i++) raw += String.fromCharCode(view[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-csrftoken": csrf, accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) {
          var problem = new Error(data.detail || "That did not work. Try again.");
          problem.code = data.code;
          throw problem;
        }
        return data;
      });
    });
  }
  function creationOptions(o) {
    o.challenge = bytes(o.challenge);
    o.user.id = bytes(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    return { publicKey: o };
  }
  function requestOptions(o) {
    o.challenge = bytes(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    return { publicKey: o };
  }
  function registration(c) {
    return {
      id: c.id, rawId: text(c.rawId), type: c.type,
      response: {
        clientDataJSON: text(c.response.clientDataJSON),
        attestationObject: text(c.response.attestationObject),
        transports: c.response.getTransports ? c.response.getTransports() : [],
      },
    };
  }
  function assertion(c) {
    return {
      id: c.id, rawId: text(c.rawId), type: c.type,
      response: {
        clientDataJSON: text(c.response.clientDataJSON),
        authenticatorData: text(c.response.authenticatorData),
        signature: text(c.response.signature),
        userHandle: c.response.userHandle ? text(c.response.userHandle) : null,
      },
    };
  }
  function answerWithPasskey(optionsUrl) {
    return post(optionsUrl).then(function (o) {
      return navigator.credentials.get(requestOptions(o));
    }).then(assertion);
  }
  function say(el, message) { if (el) { el.textContent = message; } }

  // Account → Security: add a passkey.
  var add = document.querySelector("[data-passkey-add]");
  if (add) {
    add.hidden = false;
    var problem = add.querySelector("[data-passkey-error]");
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      say(problem, "");
      var name = add.querySelector("[name=name]").value;
      post("/account/security/passkeys/options").then(function (o) {
        return navigator.credentials.create(creationOptions(o));
      }).then(function (c) {
        return post("/account/security/passkeys", { credential: registration(c), name: name });
      }).then(function () {
        window.location.assign("/account/security?done=passkey_added");
      }).catch(function (error) {
        // Adding a passkey changes who can get in: confirm it's you first, then come back.
        if (error.code === "reauth_required") {
          window.location.assign("/account/confirm?then=" + encodeURIComponent("/account/security"));
          return;
        }
        say(problem, error.message);
      });
    });
  }

  // Sign in (website or TV page) with a passkey alone.
  Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-sign-in]"), function (button) {
    button.hidden = false;
    var base = document.body.dataset.surface || "";
    var problem = document.querySelector("[data-passkey-problem]");
    button.addEventListener("click", function () {
      say(problem, "");
      answerWithPasskey(base + "/sign-in/passkey/options").then(function (credential) {
        var next = (document.querySelector("input[name=next]") || {}).value || "";
        return post(base + "/sign-in/passkey", { credential: credential, next: next });
      }).then(function (done) {
        window.location.assign(done.location);
      }).catch(function (error) { say(problem, error.message); });
    });
  });

  // Confirm it's you with a passkey, then carry on with the form that asked.
  var reauth = document.querySelector("[data-passkey-reauth]");
  if (reauth) {
    reauth.hidden = false;
    reauth.addEventListener("click", function () {
      answerWithPasskey("/sign-in/passkey/options").then(function (credential) {
        return post("/account/confirm/passkey", { credential: credential });
      }).then(function () {
        document.getElementById("confirm-form").submit();
      }).catch(function (error) { say(document.querySelector("[data-passkey-problem]"), error.message); });
    });
  }
})();
