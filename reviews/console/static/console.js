// Keyboard shortcuts for moderators, and copy buttons; everything works without this script.
// j/k next and previous, x select a row, p publish, r reject, c the whole campaign, u undo, ? the list (the
// Photos tab: j/k, a approve, A the review's photos, r reject). Off when the user turned single-key
// shortcuts off (WCAG 2.1.4), and never while typing in a field.
(function () {
  "use strict";
  // The server shows dates in the browser's time zone: tell it which one (a cookie, console only).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("attest_console_tz=" + encodeURIComponent(zone)) < 0) {
      document.cookie = "attest_console_tz=" + encodeURIComponent(zone) + "; path=/console; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: dates stay in UTC */ }
  // Enter on the decision bar's reason sends the rejection, as Enter in a text field sends its form.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target && target.tagName === "SELECT" && target.hasAttribute("data-send-on-enter") &&
        target.value && target.form) {
      event.preventDefault();
      target.form.requestSubmit();
    }
  });
  // Copy buttons, <button type="button" class="copy" data-copy-target="ID">: the target's value (a field)
  // or text (a snippet) to the clipboard; the button says "Copied" for a moment and so does the live region.
  var copyStatus = document.getElementById("copy-status");
  document.documentElement.classList.add("js");
  function copyFallback(source, text) {
    var field = source;
    if (!("select" in source)) {
      field = document.createElement("textarea");
      field.value = text;
      field.setAttribute("readonly", "");
      field.className = "sr-only";
      document.body.appendChild(field);
    }
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    if (field !== source) field.remove();
    return ok;
  }
  function sayCopied(button) {
    var word = (copyStatus && copyStatus.getAttribute("data-copied")) || "Copied";
    if (button.copyLabel === undefined) button.copyLabel = button.innerHTML;
    button.textContent = word;
    button.classList.add("copied");
    if (copyStatus) copyStatus.textContent = word;
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(function () {
      button.innerHTML = button.copyLabel;
      button.classList.remove("copied");
      if (copyStatus) copyStatus.textContent = "";
    }, 2500);
  }
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button.copy[data-copy-target]") : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var text = "value" in source && source.tagName !== "BUTTON" ? source.value : source.textContent;
    var done = function () { sayCopied(button); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { if (copyFallback(source, text)) done(); });
    } else if (copyFallback(source, text)) {
      done();
    }
  });
  // An Undo goes away when its grace period is over (the server would refuse it by then).
  // Counted from the page's arrival (seconds the server counted), never against the browser's clock.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-undo-seconds]"), function (form) {
    var left = parseInt(form.getAttribute("data-undo-seconds"), 10) * 1000;
    if (!(left > 0)) { form.remove(); return; }
    window.setTimeout(function () { form.remove(); }, Math.min(left, 2147483647));
  });
  // Select all: the queue's header box (shown only with this script) ticks every row's box on the page.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-select-all]"), function (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(all.form.querySelectorAll('td.pick input[type="checkbox"]'), function (box) {
        box.checked = all.checked;
      });
    });
  });
  if (document.body.dataset.shortcuts !== "on") return;
  // The Photos tab: j/k move between the cards, a approves, A approves the rest of the review's too,
  // r goes to the reason (Enter then sends the refusal); the card's own buttons otherwise.
  var grid = document.querySelector("[data-photo-grid]");
  if (grid) {
    var cards = Array.prototype.slice.call(grid.querySelectorAll("[data-photo]"));
    var at = -1;
    var pick = function (i) {
      at = Math.max(0, Math.min(cards.length - 1, i));
      cards.forEach(function (card, n) { card.setAttribute("aria-current", n === at ? "true" : "false"); });
      cards[at].focus();
    };
    if (cards.length) pick(parseInt(grid.dataset.start || "0", 10) || 0);
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || !cards.length) return;
      var target = event.target;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
      var key = event.key;
      if (key === "j" || key === "k") { pick(at + (key === "j" ? 1 : -1)); event.preventDefault(); return; }
      var control = at >= 0 ? cards[at].querySelector('[data-photo-key="' + key + '"]') : null;
      if (!control) return;
      event.preventDefault();
      if (control.tagName === "SELECT") {
        if (control.selectedIndex < 1) control.selectedIndex = 1;
        control.focus();
      } else {
        control.click();
      }
    });
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("table[data-list] tbody tr[data-href]"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (row, n) { row.setAttribute("aria-selected", n === current ? "true" : "false"); });
    var link = rows[current].querySelector("a");
    if (link) link.focus();
  }
  function follow(key) {
    var link = document.querySelector('a[data-key="' + key + '"]');
    if (link) { window.location.href = link.href; return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== "checkbox" && target.type !== "radio") return;
    var key = event.key;
    if (key === "?") {
      var help = document.getElementById("keys-help");
      if (help && help.showModal) { help.showModal(); event.preventDefault(); }
      return;
    }
    if (rows.length && (key === "j" || key === "k")) {
      select(current + (key === "j" ? 1 : -1));
      event.preventDefault();
      return;
    }
    if (key === "j" || key === "k") { if (follow(key)) event.preventDefault(); return; }
    if (key === "x" && rows.length && current >= 0) {
      var box = rows[current].querySelector('input[type="checkbox"]');
      if (box) { box.checked = !box.checked; event.preventDefault(); }
      return;
    }
    if (key === "p") {
      var publish = document.querySelector('button[data-key="p"]');
      if (publish) { publish.focus(); event.preventDefault(); }
      return;
    }
    if (key === "r") {
      var reject = document.querySelector('[data-key="r"]');
      if (reject) {
        reject.focus();
        if (reject.tagName === "SELECT") { if (reject.selectedIndex < 1) reject.selectedIndex = 1; } else { reject.checked = true; }
        event.preventDefault();
      }
      return;
    }
    if (key === "u") {
      var undo = document.querySelector('form[data-undo-seconds] button[data-key="u"]');
      if (undo) { undo.focus(); event.preventDefault(); }
      return;
    }
    if (key === "c") {
      var campaign = document.querySelector('button[data-key="c"]');
      if (campaign) { campaign.focus(); event.preventDefault(); }
    }
  });
})();
