/* The recruiter UI's one script: progressive enhancement only (every page works without it).
 * - A form with data-preview posts itself (with its CSRF field) to that URL as the user types,
 *   with "X-Preview: fragment", and puts the answer into the element named by
 *   data-preview-target (the server renders it; the email's HTML sits in a sandboxed frame).
 * - An element with data-refresh is reloaded every 5 s from its page with "X-Fragment: stats"
 *   while the campaign is scheduled or sending.
 */
(function () {
  "use strict";

  function fragment(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", redirect: "follow" }, options)).then(
      function (response) {
        // A redirect means the session ended (the sign-in page): keep what is shown.
        if (!response.ok || response.redirected) {
          throw new Error("no fragment: " + response.status);
        }
        return response.text();
      }
    );
  }

  function livePreview(form) {
    var target = document.getElementById(form.getAttribute("data-preview-target"));
    if (!target) {
      return;
    }
    var timer = null;
    var latest = 0;
    function update() {
      var mine = ++latest;
      var body = new URLSearchParams(new FormData(form));
      fragment(form.getAttribute("data-preview"), {
        method: "POST",
        body: body,
        headers: { "X-Preview": "fragment" },
      })
        .then(function (html) {
          if (mine === latest) {
            target.innerHTML = html;
          }
        })
        .catch(function () {
          /* keep the last preview; the Preview button still works */
        });
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
  }

  function liveStats(region) {
    var url = window.location.pathname;
    var interval = window.setInterval(function () {
      if (document.hidden) {
        return;
      }
      fragment(url, { headers: { "X-Fragment": "stats" } })
        .then(function (html) {
          region.innerHTML = html;
          var status = region.querySelector("[data-status]");
          if (status && status.getAttribute("data-status") === "sent") {
            window.clearInterval(interval);
          }
        })
        .catch(function () {
          window.clearInterval(interval);
        });
    }, 5000);
  }

  document.querySelectorAll("form[data-preview]").forEach(livePreview);
  document.querySelectorAll("[data-refresh]").forEach(liveStats);
})();
