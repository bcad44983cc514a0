/* The TV's "Sign in with your phone": the server says at once when the code is approved (the
   page then collects its sign-in), denied or run out (a new code then comes by itself). */
(function () {
  "use strict";
  var url = document.body.dataset.codeEvents;
  if (!url) return;
  var finish = document.querySelector("[data-code-finish]");
  var done = false;

  function newCode(query) {
    if (done) return;
    done = true;
    window.location.replace("/tv/sign-in" + (query || ""));
  }

  var source = null;
  if ("EventSource" in window) {
    source = new EventSource(url);
    source.addEventListener("open", function () { document.body.dataset.codeState = "waiting"; });
    source.addEventListener("code", function (event) {
      source.close();
      var outcome = JSON.parse(event.data).outcome;
      if (outcome === "approved") {
        done = true;
        document.body.dataset.codeState = "approved";
        finish.requestSubmit();
      } else if (outcome === "denied") {
        newCode("?reason=code_denied");
      } else {
        newCode();
      }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  // Whatever the stream does, a code that ran out is replaced.
  var left = Number(document.body.dataset.codeExpires || 600);
  window.setTimeout(function () { newCode(); }, (left + 1) * 1000);
})();
