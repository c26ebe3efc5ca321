// porthole's only script: enhancements the pages work without.
(function () {
  "use strict";
  // "/" focuses the search box, as on many reference sites.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var q = document.getElementById("q");
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
})();
