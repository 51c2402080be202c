/* The recruiter UI's one script: progressive enhancement only (every page works without it).
 * - A form with data-preview posts itself (with its CSRF field) to that URL as the user types,
 *   with "X-Preview: fragment", and puts the answer into the element named by
 *   data-preview-target (the server renders it; the email's HTML sits in a sandboxed frame).
 * - An element with data-refresh is reloaded every 5 s from its page with "X-Fragment: stats"
 *   while the campaign is scheduled or sending.
 * - Every <time datetime> gets its full time (title, shown on hover) in the reader's own time zone;
 *   the relative words of one drawn by ui.when ("3 hours ago", marked data-rel="<prefix>") stay
 *   fresh, once a minute. The server's clock is <body data-now> (the local stack's clock can be
 *   moved), so the words agree with the server's.
 * - The main navigation marks the link of the current area with aria-current="page".
 * - A button with data-copy copies a field's value (a referral link) to the clipboard.
 */
(function () {
  "use strict";
  if (window.crmUi) {
    return; // loaded twice on one page: once is enough
  }
  window.crmUi = true;

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

  // ---------------------------------------------------------------- readable times
  var UNITS = [
    [365 * 86400, "year"],
    [30 * 86400, "month"],
    [7 * 86400, "week"],
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  var serverNow = Date.parse(document.body.getAttribute("data-now") || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();

  // The same words as crm.platform.times.relative.
  function relative(moment, now) {
    var seconds = (now - moment) / 1000;
    var future = seconds < 0;
    seconds = Math.abs(seconds);
    if (seconds < 45) {
      return future ? "in a moment" : "just now";
    }
    for (var i = 0; i < UNITS.length; i++) {
      var size = UNITS[i][0];
      if (seconds >= size * 0.95) {
        var count = Math.max(1, Math.round(seconds / size));
        var words = count + " " + UNITS[i][1] + (count === 1 ? "" : "s");
        return future ? "in " + words : words + " ago";
      }
    }
    return future ? "in 1 minute" : "1 minute ago";
  }

  var fullTime = null;
  try {
    fullTime = new Intl.DateTimeFormat(undefined, {
      weekday: "short",
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    });
  } catch (e) {
    fullTime = null;
  }

  function readableTimes(root) {
    var now = Date.now() + skew;
    (root || document).querySelectorAll("time[datetime]").forEach(function (element) {
      var moment = Date.parse(element.getAttribute("datetime"));
      if (isNaN(moment)) {
        return;
      }
      if (fullTime) {
        element.title = fullTime.format(new Date(moment));
      }
      if (element.hasAttribute("data-rel")) {
        var words = element.getAttribute("data-rel") + relative(moment, now);
        if (element.textContent !== words) {
          element.textContent = words;
        }
      }
    });
  }

  // ---------------------------------------------------------------- navigation
  function markCurrentArea() {
    var path = window.location.pathname.replace(/\/+$/, "") || "/";
    var best = null;
    var bestLength = -1;
    document.querySelectorAll("header nav a[href]").forEach(function (link) {
      var href = link.getAttribute("href").replace(/\/+$/, "");
      var matches = href === "/ui" ? path === "/ui" : path === href || path.indexOf(href + "/") === 0;
      if (matches && href.length > bestLength) {
        best = link;
        bestLength = href.length;
      }
    });
    if (best) {
      best.setAttribute("aria-current", "page");
    }
  }

  // A button with data-copy="<id>" copies that field's value (shown only where the clipboard
  // works; the field stays selectable without it) and says so in the page's data-copied status.
  function copyButton(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) {
      return;
    }
    var status = button.parentNode.querySelector("[data-copied]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          if (status) {
            status.textContent = "Copied.";
          }
        },
        function () {
          field.select();
          if (status) {
            status.textContent = "Select the link and copy it.";
          }
        }
      );
    });
  }

  markCurrentArea();
  readableTimes(document);
  window.setInterval(function () {
    if (!document.hidden) {
      readableTimes(document);
    }
  }, 60000);
  // Fragments put in place later (previews, live stats) get readable times too.
  if (window.MutationObserver) {
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) {
            readableTimes(node.parentNode || node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
  document.querySelectorAll("form[data-preview]").forEach(livePreview);
  document.querySelectorAll("[data-refresh]").forEach(liveStats);
  document.querySelectorAll("button[data-copy]").forEach(copyButton);
})();
