// Copy buttons: the runbook's steps and the desired values go to the
// clipboard in one click. Without this script the buttons stay hidden
// and the text can still be selected by hand.
(function () {
  "use strict";

  function status(text) {
    var el = document.getElementById("copy-status");
    if (el) { el.textContent = text; }
  }

  // Outside a secure context the Clipboard API is missing; selecting the
  // text and asking the browser to copy it still works there.
  function fallback(source) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok;
  }

  function done(button, ok) {
    var label = button.getAttribute("aria-label") || "Copy";
    button.textContent = ok ? "Copied" : "Select and copy";
    button.classList.toggle("copied", ok);
    status(ok ? label.replace(/^Copy/, "Copied") : "Copying failed; the text is selected, press Ctrl+C.");
    window.setTimeout(function () {
      button.textContent = "Copy";
      button.classList.remove("copied");
    }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) { return; }
    var source = document.getElementById(button.dataset.copyFrom);
    if (!source) { return; }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done(button, true); },
        function () { done(button, fallback(source)); });
    } else {
      done(button, fallback(source));
    }
  });

  function reveal() {
    document.querySelectorAll("button.copy[hidden]").forEach(function (b) { b.hidden = false; });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }
})();
