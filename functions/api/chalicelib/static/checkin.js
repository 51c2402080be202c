/* The check-in desk's camera scanner: progressive enhancement only (the page works without it:
 * search by name or email, type or paste a code, or a phone's own camera app opening the code's
 * address). Where the browser has the BarcodeDetector API and a camera, "Start the camera" scans
 * QR codes; each code read is posted to the desk (Accept: application/json) with a request id of
 * its own, retried with that same id while the network fails, so a retry answers as the first
 * request did and nobody is checked in twice. A code read again within a few seconds is ignored.
 */
(function () {
  "use strict";
  var desk = document.querySelector("[data-checkin-desk]");
  if (!desk || window.crmCheckin) {
    return;
  }
  window.crmCheckin = true;
  var section = desk.querySelector("[data-scanner]");
  var video = desk.querySelector("[data-scanner-video]");
  var start = desk.querySelector("[data-scanner-start]");
  var stop = desk.querySelector("[data-scanner-stop]");
  var note = desk.querySelector("[data-scanner-note]");
  var result = desk.querySelector("[data-result]");
  var counts = desk.querySelector("[data-counts]");
  var csrfField = desk.querySelector('input[name="csrf"]');
  var action = "/ui/events/" + encodeURIComponent(desk.getAttribute("data-event")) + "/check-in";
  var supported =
    "BarcodeDetector" in window && navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function";
  if (!section || !supported || !csrfField) {
    return;
  }

  var detector = null;
  var stream = null;
  var timer = null;
  var recent = {};

  function requestId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return "scan-" + window.crypto.randomUUID();
    }
    return "scan-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function show(text, kind) {
    var p = document.createElement("p");
    p.className = "result " + kind;
    p.setAttribute("role", kind === "bad" ? "alert" : "status");
    p.textContent = text;
    result.replaceChildren(p);
  }

  function counted() {
    if (!counts) {
      return;
    }
    var match = /^(\d+) of (\d+)/.exec(counts.textContent);
    if (match) {
      counts.textContent = Number(match[1]) + 1 + " of " + match[2] + " checked in";
    }
  }

  function send(code, id, attempt) {
    var body = new URLSearchParams({ csrf: csrfField.value, token: code, request_id: id });
    return fetch(action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (response.ok) {
            show(answer.message, answer.status === "checked_in" ? "ok" : "warn");
            if (answer.status === "checked_in") {
              counted();
            }
          } else {
            show(answer.detail || "This code was refused.", "bad");
          }
        });
      })
      .catch(function () {
        if (attempt >= 5) {
          show("No connection: the check-in was not confirmed. Try again.", "bad");
          return;
        }
        show("No connection, trying again…", "warn");
        return new Promise(function (resolve) {
          window.setTimeout(resolve, 1000 * Math.pow(2, attempt));
        }).then(function () {
          return send(code, id, attempt + 1);
        });
      });
  }

  function scan() {
    if (!stream) {
      return;
    }
    detector
      .detect(video)
      .then(function (codes) {
        var now = Date.now();
        codes.forEach(function (code) {
          var value = code.rawValue;
          if (!value || (recent[value] && now - recent[value] < 4000)) {
            return;
          }
          recent[value] = now;
          send(value, requestId(), 0);
        });
      })
      .catch(function () {
        /* a frame that could not be read: the next one may */
      })
      .then(function () {
        timer = window.setTimeout(scan, 300);
      });
  }

  function stopCamera() {
    window.clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    video.srcObject = null;
    start.hidden = false;
    stop.hidden = true;
  }

  start.addEventListener("click", function () {
    try {
      detector = detector || new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (error) {
      note.textContent = "This browser cannot read codes: search by name, or type the code.";
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        return video.play();
      })
      .then(function () {
        start.hidden = true;
        stop.hidden = false;
        scan();
      })
      .catch(function () {
        note.textContent = "The camera is not available: search by name, or type the code.";
        stopCamera();
      });
  });
  stop.addEventListener("click", stopCamera);
  section.hidden = false;
})();
