// The backup page's sliders (seed 003, Figure 1): as a slider moves, its value is shown at once
// and the server is asked what these caps would give (/resources/preview: the pie chart and
// the three thick lines, computed by the server; nothing here knows a rule). One request at a
// time; when it returns and the sliders moved meanwhile, the newest position is asked next.
(function () {
  "use strict";
  var form = document.querySelector("form[data-rm-preview]");
  if (!form || !window.fetch) return;
  var url = form.getAttribute("data-rm-preview");
  var busy = false;
  var dirty = false;
  var seq = 0;
  function params() {
    var p = new URLSearchParams();
    form.querySelectorAll("input[type=range]").forEach(function (r) { p.append(r.name, r.value); });
    return p.toString();
  }
  function ask() {
    if (busy) { dirty = true; return; }
    busy = true; dirty = false;
    var mine = ++seq;
    fetch(url + "?" + params(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
        doc.querySelectorAll("[data-rpart]").forEach(function (fresh) {
          var old = document.querySelector('[data-rpart="' + fresh.getAttribute("data-rpart") + '"]');
          if (old) old.replaceWith(document.importNode(fresh, true));
        });
        document.body.setAttribute("data-rm-seq", String(mine));
      })
      .catch(function () {})
      .then(function () { busy = false; if (dirty) ask(); });
  }
  form.querySelectorAll("input[type=range]").forEach(function (r) {
    var out = document.getElementById("o-" + r.name);
    r.addEventListener("input", function () {
      if (out) out.textContent = r.value;
      ask();
    });
  });
})();
