// Live suggestions while a need is typed: after a pause, ask the server for the matches of
// the draft and show them in the polite live region. The page works without this script.
(function () {
  "use strict";
  var form = document.getElementById("behovsskjema");
  var live = document.getElementById("live");
  if (!form || !live) { return; }
  var timer = null;
  var last = "";
  function query() {
    var params = new URLSearchParams();
    params.set("tittel", form.elements.title.value);
    params.set("beskrivelse", form.elements.description.value);
    form.querySelectorAll("input[name=themes]:checked").forEach(function (box) {
      params.append("tema", box.value);
    });
    return params.toString();
  }
  function refresh() {
    var q = query();
    if (q === last) { return; }
    last = q;
    live.setAttribute("aria-busy", "true");
    fetch(live.dataset.url + "?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (q === last) { live.innerHTML = html; } })
      .catch(function () { live.innerHTML = "<p class=\"hint\">Kunne ikke hente treff akkurat nå.</p>"; })
      .finally(function () { live.removeAttribute("aria-busy"); });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 700);
  });
  refresh();
})();

// Long work (re-indexing, planning a conference): follow the job's progress until it is
// done; a box with data-reload shows the finished result by loading the page again.
document.querySelectorAll(".progress-box[data-url]").forEach(function (box) {
  "use strict";
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-status]");
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (!job.running && box.dataset.reload === "true") {
          // the result is the page itself: load it (the status comes with it)
          window.location.reload();
          return;
        }
        text.textContent = job.text;
        if (job.total) { bar.max = job.total; bar.value = job.done; }
        if (job.running) { setTimeout(poll, 400); }
        else { bar.max = 1; bar.value = 1; box.setAttribute("data-done", "true"); }
      })
      .catch(function () { setTimeout(poll, 1500); });
  }
  if (box.dataset.running === "true") { poll(); }
});
