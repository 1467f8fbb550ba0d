// Live updates: follows the server's public event stream (/api/v1/stream) and, when the market
// moves, fetches the page's live fragment (body[data-live]) and swaps in each [data-part].
// EventSource reconnects by itself and sends Last-Event-ID, so the stream resumes after a drop.
(function () {
  "use strict";
  var url = document.body && document.body.getAttribute("data-live");
  if (!url || !window.EventSource || !window.fetch) return;
  var pending = null;
  var busy = false;
  function refresh() {
    pending = null;
    if (busy) { pending = setTimeout(refresh, 300); return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
        doc.querySelectorAll("[data-part]").forEach(function (fresh) {
          var name = fresh.getAttribute("data-part");
          var old = document.querySelector('[data-part="' + name + '"]');
          // Keep what the person is typing: never replace a part that holds the focus.
          if (old && !old.contains(document.activeElement)) old.replaceWith(document.importNode(fresh, true));
        });
        document.body.setAttribute("data-live-updated", String(Date.now()));
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  function schedule() { if (!pending) pending = setTimeout(refresh, 150); }
  var es = new EventSource("/api/v1/stream");
  es.addEventListener("market", schedule);
  es.addEventListener("open", function () { document.body.setAttribute("data-live-connected", "1"); });
})();
