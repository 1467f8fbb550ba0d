// Forms made live: a form with data-preview="URL" asks the server for its preview fragment as
// the person types (the server computes it; nothing here knows a rule), and replaces the
// element marked [data-preview-out]. Without JavaScript the Preview button does the same.
(function () {
  "use strict";
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    var url = form.getAttribute("data-preview");
    var timer = null;
    var seq = 0;
    function update() {
      timer = null;
      var params = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (k !== "csrf" && k !== "form_key" && k !== "password" && typeof v === "string") params.append(k, v);
      });
      var mine = ++seq;
      fetch(url + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || mine !== seq) return;
          var out = form.querySelector("[data-preview-out]");
          if (!out) return;
          var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
          var fresh = doc.querySelector("[data-preview-out]");
          if (fresh) out.replaceWith(document.importNode(fresh, true));
          form.setAttribute("data-preview-seq", String(mine));
        })
        .catch(function () {});
    }
    function schedule() { if (timer) clearTimeout(timer); timer = setTimeout(update, 120); }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  });
})();
