// The course pages' date fields: typed in the browser's own time zone, and sent with that zone.
// The server writes them in UTC (the page says so), which is what is sent when this does not run.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  function pad(number) {
    return String(number).padStart(2, "0");
  }
  // A datetime-local value: the moment in the browser's zone, to the minute.
  function localValue(moment) {
    return moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate()) +
      "T" + pad(moment.getHours()) + ":" + pad(moment.getMinutes());
  }
  document.querySelectorAll("form[data-browser-zone]").forEach(function (form) {
    form.querySelectorAll("input[data-utc]").forEach(function (input) {
      var moment = new Date(input.getAttribute("data-utc"));
      if (!isNaN(moment.getTime())) {
        input.value = localValue(moment);
      }
    });
    form.querySelectorAll("input[name=zone]").forEach(function (input) { input.value = zone; });
    form.querySelectorAll("[data-zone-name]").forEach(function (element) { element.textContent = zone; });
  });
})();
