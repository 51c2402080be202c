// The import page: post the chosen files straight to S3 (the import's presigned POST), then reload;
// while the import runs, poll its status and move the progress bar, reloading when it finishes.
(function () {
  "use strict";
  var form = document.getElementById("import-upload");
  if (form) {
    var say = document.getElementById("upload-status");
    var send = function (url, fields, file) {
      var body = new FormData();
      Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
      body.append("file", file);
      // The answer is not read (no CORS needed): the page asks the server whether the file arrived.
      return fetch(url, { method: "POST", mode: "no-cors", body: body });
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var csv = document.getElementById("csv-file").files[0];
      var zip = document.getElementById("zip-file");
      if (!csv) { return; }
      say.textContent = "Uploading…";
      var done = send(form.dataset.url, JSON.parse(form.dataset.fields), csv);
      if (zip && zip.files[0]) {
        done = done.then(function () {
          return send(form.dataset.resumesUrl, JSON.parse(form.dataset.resumesFields), zip.files[0]);
        });
      }
      done.then(function () { window.location.reload(); }, function () {
        say.textContent = "The upload failed; try again.";
      });
    });
  }
  var bar = document.getElementById("import-progress");
  if (bar && (bar.dataset.status === "queued" || bar.dataset.status === "running")) {
    var rows = document.getElementById("import-rows");
    var poll = function () {
      fetch(bar.dataset.statusUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
        bar.value = s.progress;
        bar.textContent = s.progress + "%";
        rows.textContent = s.counts.rows + " row(s) read, " + s.progress + "%";
        if (s.status === "done" || s.status === "failed") { window.location.reload(); } else { setTimeout(poll, 1000); }
      }, function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }
})();
