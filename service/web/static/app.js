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

// Error summary (Designsystemet): a form that comes back with errors gets focus on its
// summary, so a screen reader reads the heading first; a link in it moves focus to its field
// and shows the field's label too. Without this script the links still lead to the fields.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var choice = field.type === "checkbox" || field.type === "radio";
    var label = choice ? field.closest("fieldset")
      : document.querySelector("label[for='" + CSS.escape(field.id) + "']");
    (label || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });
})();

// Characters used in a text box with a limit (data-count-for names the box, data-max the
// limit): the text is never cut, the count says when it is too long.
document.querySelectorAll("[data-count-for]").forEach(function (hint) {
  "use strict";
  var box = document.getElementById(hint.dataset.countFor);
  var max = parseInt(hint.dataset.max, 10);
  if (!box || !max) { return; }
  function show() {
    var n = box.value.length;
    var text = n.toLocaleString("nb-NO") + " av " + max.toLocaleString("nb-NO") + " tegn";
    if (n > max) { text += " – " + (n - max).toLocaleString("nb-NO") + " for mange, kort ned teksten"; }
    hint.textContent = text + ".";
    hint.classList.toggle("error", n > max);
  }
  box.addEventListener("input", show);
  show();
});

// The answer after a change to a conference plan: focus it when the page opens (a reload
// that shows a finished plan restores the scroll position but not the focus).
(function () {
  "use strict";
  var said = document.querySelector("[data-answer]");
  if (said && document.activeElement !== said) { said.focus({ preventScroll: true }); }
})();
