/* Optional enhancements of the review page: star words, character counters, a draft kept in
   this tab (so switching language or reloading loses nothing), focus on the error summary.
   The photos have a script of their own (review-photos.js). The page works the same without them. */
(function () {
  "use strict";
  var key = "attest-draft:" + location.pathname;
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }
  var form = document.getElementById("review-form");
  if (!form) {
    // The confirmation page: what was typed is stored now.
    if (store && document.querySelector("[data-sent]")) store.removeItem(key);
    return;
  }
  var lang = document.documentElement.lang;
  // The shop's funnel counts the link as opened: once per tab, by this script (a mail scanner's GET
  // runs no script), with no pixel in the email.
  var opened = "attest-opened:" + location.pathname;
  if (navigator.sendBeacon && form.elements.csrf && !(store && store.getItem(opened))) {
    if (store) store.setItem(opened, "1");
    navigator.sendBeacon(location.pathname + "/opened", new URLSearchParams({csrf: form.elements.csrf.value}));
  }
  var fields = function () {
    // A file input cannot be given a value back, and new photos' captions come and go with their files.
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "hidden" && el.type !== "file" && el.name.indexOf("newcaption_") !== 0;
    });
  };

  function restore() {
    var raw = store && store.getItem(key);
    if (!raw) return;
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { return; }
    fields().forEach(function (el) {
      if (!(el.name in draft)) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = draft[el.name] === el.value;
      else el.value = draft[el.name];
    });
  }

  function save() {
    if (!store) return;
    var draft = {};
    fields().forEach(function (el) {
      if (el.type === "radio") { if (el.checked) draft[el.name] = el.value; else if (!(el.name in draft)) draft[el.name] = ""; }
      else if (el.type === "checkbox") draft[el.name] = el.checked ? el.value : "";
      else draft[el.name] = el.value;
    });
    try { store.setItem(key, JSON.stringify(draft)); } catch (e) { /* full or disabled: nothing to do */ }
  }

  function counter(area) {
    var out = document.createElement("span");
    out.className = "counter";
    area.insertAdjacentElement("afterend", out);
    var max = +area.getAttribute("maxlength"), min = +area.getAttribute("data-min");
    var update = function () {
      var n = area.value.trim().length;
      out.textContent = n.toLocaleString(lang) + " / " + max.toLocaleString(lang);
      out.style.color = n && n < min ? "#b42318" : "";
    };
    area.addEventListener("input", update);
    update();
  }

  function stars(group) {
    var word = group.querySelector(".word");
    var checkedWord = function () {
      var c = group.querySelector("input:checked");
      return c ? group.querySelector("label[for='" + c.id + "']").getAttribute("data-word") : "";
    };
    var show = function (text) { word.textContent = text; };
    group.addEventListener("change", function () { show(checkedWord()); });
    Array.prototype.forEach.call(group.querySelectorAll("label"), function (label) {
      label.addEventListener("mouseenter", function () { show(label.getAttribute("data-word")); });
      label.addEventListener("mouseleave", function () { show(checkedWord()); });
    });
    show(checkedWord());
  }

  restore();
  Array.prototype.forEach.call(form.querySelectorAll("textarea[maxlength]"), counter);
  Array.prototype.forEach.call(form.querySelectorAll(".stars"), stars);
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  var sending = false;
  form.addEventListener("submit", function (event) {
    if (sending) event.preventDefault();  // a second tap would post the same review twice
    sending = true;
  });
  window.addEventListener("pageshow", function () { sending = false; });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
