/* /activate and the device list: send the person's time zone with the form ("tomorrow 11:00"
   is their 11:00), pick "a time I choose" when a time is typed, and show times as local. */
(function () {
  "use strict";
  var zone = "UTC";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* old browser */ }
  document.querySelectorAll("[data-time-zone]").forEach(function (input) {
    if (input.value === "UTC") input.value = zone;
  });
  var until = document.getElementById("f-until");
  var custom = document.getElementById("f-length-custom");
  if (until && custom) until.addEventListener("input", function () { custom.checked = true; });
  var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  document.querySelectorAll("time[data-local-time]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at)) return;
    el.textContent = days[at.getDay()] + " " + String(at.getHours()).padStart(2, "0") + ":" +
      String(at.getMinutes()).padStart(2, "0");
  });
})();
