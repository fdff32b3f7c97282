// Tocsin console, notice-wave page: while a wave runs, refetch this page every few seconds and swap in
// its live part (#waves-live). Progressive enhancement only: without JavaScript the Refresh link does it.
(function () {
  "use strict";
  function schedule(live) {
    if (!live || live.getAttribute("data-running") !== "true" || !window.fetch || !window.DOMParser) { return; }
    var seconds = parseInt(live.getAttribute("data-poll"), 10) || 5;
    window.setTimeout(refresh, seconds * 1000);
  }
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("waves-live");
        var live = document.getElementById("waves-live");
        if (!fresh || !live) { return; }
        live.innerHTML = fresh.innerHTML;
        live.setAttribute("data-running", fresh.getAttribute("data-running") || "false");
        schedule(live);
      })
      .catch(function () { /* logged out or offline: stop polling; the Refresh link still works */ });
  }
  document.addEventListener("DOMContentLoaded", function () { schedule(document.getElementById("waves-live")); });
})();
