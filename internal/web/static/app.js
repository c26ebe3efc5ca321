// porthole's only script: enhancements the pages work without.
(function () {
  "use strict";
  // "/" focuses the search box, as on many reference sites.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var q = document.getElementById("q") || document.getElementById("q2");
    if (q) { e.preventDefault(); q.focus(); q.select(); }
  });
  // Copy buttons are hidden until this script shows them.
  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "vh";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }
  function done(btn) {
    var label = btn.textContent;
    btn.textContent = btn.getAttribute("data-done");
    btn.classList.add("done");
    setTimeout(function () { btn.textContent = label; btn.classList.remove("done"); }, 2000);
  }
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  Array.prototype.forEach.call(buttons, function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      if (!el) return;
      var text = el.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(btn); }, function () {
          fallbackCopy(text);
          done(btn);
        });
      } else {
        fallbackCopy(text);
        done(btn);
      }
    });
  });
  // The port map: one tab stop instead of 256. The arrow keys move between
  // cells (up and down by a row of the map as drawn), Home and End to the
  // ends of a row; Tab leaves the map. Without this script every cell is a
  // tab stop and a link before the map skips it.
  var cells = document.querySelectorAll(".map-cells a");
  if (cells.length) {
    var cur = 0;
    Array.prototype.forEach.call(cells, function (a, i) {
      a.tabIndex = i === 0 ? 0 : -1;
      a.addEventListener("focus", function () {
        cells[cur].tabIndex = -1;
        cur = i;
        a.tabIndex = 0;
      });
    });
    var skip = document.querySelector(".skip-map");
    if (skip) skip.hidden = true;
    var perRow = function () {
      // Cells per drawn line: 16 on a wide screen, 8 on a phone.
      var top = cells[0].offsetTop, n = 0;
      while (n < cells.length && cells[n].offsetTop === top) n++;
      return n || 16;
    };
    document.querySelector(".portmap").addEventListener("keydown", function (e) {
      var to = -1, w = perRow();
      switch (e.key) {
        case "ArrowRight": to = cur + 1; break;
        case "ArrowLeft": to = cur - 1; break;
        case "ArrowDown": to = cur + w; break;
        case "ArrowUp": to = cur - w; break;
        case "Home": to = cur - (cur % w); break;
        case "End": to = cur - (cur % w) + w - 1; break;
        default: return;
      }
      if (to < 0 || to >= cells.length) return;
      e.preventDefault();
      cells[to].focus();
    });
  }
  // Feedback: answer without leaving the page, and say how others rated it. The words come from the form's
  // data attributes; without this script the form posts and redirects as before.
  var form = document.querySelector("form.feedback[data-thanks]");
  if (!form || !window.fetch) return;
  var section = form.parentNode;
  var port = form.elements.port.value, lang = form.elements.lang.value;
  var failed = null;
  form.addEventListener("submit", function (e) {
    var rating = form.querySelector('input[name="rating"]:checked');
    // A filled honeypot goes the no-script way, where the server drops it.
    if (!rating || form.elements.website.value) return;
    e.preventDefault();
    var btn = form.querySelector('button[type="submit"]');
    btn.disabled = true;
    fetch("/api/v1/feedback", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ port: parseInt(port, 10), lang: lang, rating: rating.value,
        comment: form.elements.comment.value.replace(/\r\n/g, "\n") })
    }).then(function (res) {
      if (res.status !== 201) throw new Error("status " + res.status);
      var p = document.createElement("p");
      p.className = "note thanks";
      p.setAttribute("role", "status");
      p.textContent = form.getAttribute("data-thanks");
      section.replaceChild(p, form);
    }).catch(function () {
      btn.disabled = false;
      if (!failed) {
        failed = document.createElement("p");
        failed.className = "note error";
        failed.setAttribute("role", "alert");
        section.insertBefore(failed, form);
      }
      failed.textContent = form.getAttribute("data-error");
    });
  });
  fetch("/api/v1/feedback/summary?port=" + encodeURIComponent(port) + "&lang=" + encodeURIComponent(lang),
    { credentials: "same-origin" }).then(function (res) {
    return res.ok ? res.json() : null;
  }).then(function (s) {
    if (!s || !(s.total > 0)) return;
    var n = [s.helpful, s.total];
    var p = document.createElement("p");
    p.className = "small summary";
    p.textContent = form.getAttribute("data-summary").replace(/\{([01])\}/g, function (_, i) { return String(n[i]); });
    var h = section.querySelector("h2");
    section.insertBefore(p, h.nextSibling);
  }).catch(function () {});
})();
