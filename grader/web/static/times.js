// Times in the viewer's own zone. The server writes every <time datetime="..."> in UTC with the zone
// named ("Mon 7 Dec 2026, 14:05 UTC", grader/web/times.py); this rewrites each one in the same shape in
// the viewer's zone, again named ("Mon 7 Dec 2026, 15:05 GMT+1"), with the names of the PAGE's
// language (<html lang>), not the browser's, so an English page never reads "7. Dez." The UTC text
// stays as the element's tooltip. app.js calls graderTimes.show again on parts it replaces.
// A form marked data-browser-zone takes its dates in the browser's zone: its datetime-local fields
// (written in UTC, data-utc holding the moment) are rewritten in that zone, its hidden "zone" field
// sends the zone's name and its [data-zone-name] says it. Without script the page says UTC, and is.
"use strict";

window.graderTimes = (function () {
  var language = document.documentElement.lang || "en";

  function parts(moment, options) {
    var found = {};
    new Intl.DateTimeFormat(language, options).formatToParts(moment).forEach(function (part) {
      found[part.type] = part.value;
    });
    return found;
  }

  // "Mon 7 Dec 2026, 15:05 CET": the order of the server's text, whatever the language's own.
  function text(moment) {
    var p = parts(moment, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
    });
    return p.weekday + " " + p.day + " " + p.month + " " + p.year + ", " + p.hour + ":" + p.minute + " " + p.timeZoneName;
  }

  // "15:05:07 CET": a time of day today, such as when a page last checked for news.
  function clock(moment) {
    var p = parts(moment, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" });
    return p.hour + ":" + p.minute + ":" + p.second + " " + p.timeZoneName;
  }

  function show(root) {
    root.querySelectorAll("time[datetime]").forEach(function (element) {
      var value = element.getAttribute("datetime");
      // Only moments (a date with a time and an offset) have a zone to change.
      if (!/T\d\d:\d\d.*(Z|[+-]\d\d:\d\d)$/.test(value)) { return; }
      var moment = new Date(value);
      if (isNaN(moment.getTime())) { return; }
      if (!element.hasAttribute("title")) { element.setAttribute("title", element.textContent.trim()); }
      element.textContent = text(moment);
    });
  }

  function pad(number) { return String(number).padStart(2, "0"); }

  function fields(root) {
    var zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) { return; }
    root.querySelectorAll("form[data-browser-zone]").forEach(function (form) {
      form.querySelectorAll("input[data-utc]").forEach(function (input) {
        var moment = new Date(input.getAttribute("data-utc"));
        if (isNaN(moment.getTime())) { return; }
        input.value = moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate()) +
          "T" + pad(moment.getHours()) + ":" + pad(moment.getMinutes());
      });
      form.querySelectorAll("input[name=zone]").forEach(function (input) { input.value = zone; });
      form.querySelectorAll("[data-zone-name]").forEach(function (element) { element.textContent = zone; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { show(document); fields(document); });
  return { show: show, text: text, clock: clock };
})();
