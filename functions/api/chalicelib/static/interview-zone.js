/* The candidate's interview page: show the times in the browser's own time zone. Without this
 * script (or when the browser's zone is already chosen) the page shows the zone the interview was
 * offered in, and the select changes it. Runs once per visit: a zone the person chose stays. */
(function () {
  "use strict";
  var form = document.getElementById("zone-form");
  var select = form && form.querySelector("select[name=tz]");
  if (!select || form.getAttribute("data-chosen") === "1" || !window.Intl) {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
  if (zone && known && zone !== select.value) {
    select.value = zone;
    form.submit();
  }
})();
