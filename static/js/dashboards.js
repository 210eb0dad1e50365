/*
 * Dashboards: live refresh of today's numbers, the viewer's time zone on a first visit, printing.
 *
 * Live: the app socket (app.js) already brings conversation and message events to everyone allowed to
 * see them, and "dashboards.changed" after survey answers. None of them carries a number: an event only
 * tells the open dashboard that its numbers may have moved, and the page asks the server again (htmx,
 * the same URL and filters) once the reporting worker has had time to refresh its facts. Bursts are
 * coalesced into one request.
 */
(function () {
  "use strict";

  var REFRESH_DELAY_MS = 6000; // the reporting worker refreshes dirty facts every few seconds
  var MIN_GAP_MS = 10000;
  var EVENTS = ["conversation.created", "message.created", "conversation.updated", "dashboards.changed"];
  var timer = null;
  var lastRefresh = 0;

  function refresh() {
    timer = null;
    var region = document.querySelector("[data-live]");
    if (!region || !window.htmx) return;
    lastRefresh = Date.now();
    window.htmx.trigger(region, "cxm-live");
  }

  function schedule() {
    if (timer !== null || !document.querySelector("[data-live]")) return;
    var wait = Math.max(REFRESH_DELAY_MS, lastRefresh + MIN_GAP_MS - Date.now());
    timer = setTimeout(refresh, wait);
  }

  if (window.cxm && window.cxm.on) {
    EVENTS.forEach(function (type) {
      window.cxm.on(type, schedule);
    });
  }

  // Editing a day makes the range a custom one (capture phase: before htmx sends the form).
  document.addEventListener(
    "change",
    function (event) {
      var target = event.target;
      if (!target || target.type !== "date" || !target.form || target.form.id !== "dashboard-filters") return;
      var range = target.form.querySelector('select[name="range"]');
      if (range) range.value = "custom";
    },
    true
  );

  // A first visit without a time zone in the URL shows the viewer's own zone.
  function adoptBrowserZone() {
    var params = new URLSearchParams(window.location.search);
    if (params.has("tz")) return;
    var select = document.querySelector('#dashboard-filters select[name="tz"]');
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!select || !zone || select.value === zone) return;
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) {
      var option = document.createElement("option");
      option.value = zone;
      option.textContent = zone;
      select.insertBefore(option, select.firstChild);
    }
    select.value = zone;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });

  // On paper the tables are the precise record: print them open, then close what was closed.
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    openedForPrint = Array.prototype.filter.call(document.querySelectorAll("details.chart-table"), function (d) {
      return !d.open;
    });
    openedForPrint.forEach(function (d) {
      d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (d) {
      d.open = false;
    });
    openedForPrint = [];
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", adoptBrowserZone);
  } else {
    adoptBrowserZone();
  }
})();
