/* Time zone selects of interview pages start at the browser's own zone.
 * - A select with data-browser-zone is set to the zone the browser reports
 *   (Intl.DateTimeFormat().resolvedOptions().timeZone), unless data-chosen="1" (a zone the person
 *   chose) or the list lacks it.
 * - With data-autosubmit its form is sent, so the page shows its times in that zone (the
 *   candidate's page; once, as the chosen zone is then in its address).
 * Without this script the pages work in the zone they start with.
 */
(function () {
  "use strict";
  if (window.crmZones) {
    return; // included more than once on a page
  }
  window.crmZones = true;
  var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) {
    return;
  }
  Array.prototype.forEach.call(document.querySelectorAll("select[data-browser-zone]"), function (select) {
    if (select.getAttribute("data-chosen") === "1" || select.value === zone) {
      return;
    }
    var known = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (!known) {
      return;
    }
    select.value = zone;
    if (select.hasAttribute("data-autosubmit") && select.form) {
      select.form.submit();
    }
  });
})();
