// Tocsin console: progressive enhancement only; every page works without this file.
// 1. Tell the server the browser's time zone (a `tz` cookie), so times are shown in the viewer's zone.
// 2. Keep every "time left" (<span class="time-left" data-deadline="...Z">) ticking.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: the server's zone is used */ }

  // Mirrors render.describe_left on the server.
  function describeLeft(seconds) {
    var overdue = seconds < 0;
    var total = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(total / 1440), hours = Math.floor((total % 1440) / 60), minutes = total % 60;
    var text = days ? days + " d " + hours + " h" : hours ? hours + " h " + minutes + " min" : minutes + " min";
    return overdue ? "overdue by " + text : text + " left";
  }

  function tick() {
    var now = Date.now();
    var spans = document.querySelectorAll(".time-left[data-deadline]");
    for (var i = 0; i < spans.length; i++) {
      var deadline = Date.parse(spans[i].getAttribute("data-deadline"));
      if (!isNaN(deadline)) { spans[i].textContent = describeLeft((deadline - now) / 1000); }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); window.setInterval(tick, 15000); });
})();
