/* Attest review widgets. Plain script: no framework, no cookies, no request to anyone but Attest.
   <div data-attest-widget="stars|reviews" data-merchant="slug" data-product="id" data-lang="de"></div> */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.fetch) return;
  var base = me.src.replace(/\/widgets\/v1\/embed\.js([?#].*)?$/, "");
  var api = base + "/widgets/v1/";
  var LANGS = ["en", "es", "it", "pl", "ro", "de", "fr"];
  var cache = {};
  var enc = encodeURIComponent;

  function get(path) {
    if (!cache[path]) {
      cache[path] = fetch(api + path, { credentials: "omit" }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      });
    }
    return cache[path];
  }

  function language(el) {
    var tag = el.getAttribute("data-lang") || document.documentElement.lang || "en";
    var lang = tag.toLowerCase().split(/[-_]/)[0];
    return LANGS.indexOf(lang) < 0 ? "en" : lang;
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function plural(t, key, n, lang, values) {
    return fill(t[key + "_" + new Intl.PluralRules(lang).select(n)] || t[key + "_other"], values);
  }

  // Text only ever goes in through textContent: review text is never parsed as HTML.
  function node(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = "attest-" + cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function starBar(value) {
    // Grey stars with gold ones on top, clipped to value/5 so 4.6 looks like 4.6.
    var out = node("span", "stars", "★★★★★"), top = node("span", null, "★★★★★");
    var s = out.style, i = top.style;
    s.position = "relative"; s.display = "inline-block"; s.color = "#c8ccd0"; s.lineHeight = "1";
    i.position = "absolute"; i.left = i.top = "0"; i.overflow = "hidden"; i.whiteSpace = "nowrap";
    i.color = "#e3a008"; i.width = Math.max(0, Math.min(5, value)) * 20 + "%";
    out.appendChild(top);
    return out;
  }

  function renderStars(el, t, lang, d) {
    var box = node("span", "summary");
    if (!d.count) {
      box.textContent = t.none;
    } else {
      var avg = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(d.average);
      var n = new Intl.NumberFormat(lang).format(d.count);
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", plural(t, "rated", d.count, lang, { avg: avg, n: n }));
      box.appendChild(node("span", "average", avg + " "));
      box.appendChild(starBar(d.average));
      box.appendChild(node("span", "count", " (" + plural(t, "reviews", d.count, lang, { n: n }) + ")"));
    }
    el.textContent = "";
    el.appendChild(box);
  }

  function renderReviews(el, t, lang, d, slug) {
    var dates = new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
    var list = node("ul", "reviews");
    list.style.listStyle = "none";
    list.style.padding = "0";
    d.reviews.forEach(function (r) {
      var li = node("li", "review"), head = node("div"), stars = starBar(r.rating), label;
      li.style.margin = "0 0 1em";
      stars.setAttribute("role", "img");
      stars.setAttribute("aria-label", fill(t.stars, { r: r.rating }));
      head.appendChild(stars);
      if (r.verified) {
        label = head.appendChild(node("span", "verified", " ✓ " + t.verified));
        label.style.color = "#1a7f37";
      } else if (r.collection_method === "imported") {
        head.appendChild(node("span", "imported", " " + t.imported));
      }
      if (r.edited) head.appendChild(node("span", "edited", " · " + t.edited));
      li.appendChild(head);
      if (r.title) li.appendChild(node("strong", "title", r.title));
      if (r.body) li.appendChild(node("p", "body", r.body));
      if (r.reply) {
        label = li.appendChild(node("div", "reply"));
        label.style.margin = "0 0 .3em 1em";
        label.appendChild(node("strong", null, t.reply));
        label.appendChild(node("p", null, r.reply.body));
      }
      li.appendChild(node("small", "meta", (r.display_name || t.anonymous) + " · " +
        dates.format(new Date(r.submitted_at))));
      list.appendChild(li);
    });
    el.textContent = "";
    el.appendChild(d.reviews.length ? list : node("p", "none", t.none));
    var a = node("a", "how", t.how);
    a.href = base + "/verification/" + enc(slug);
    a.target = "_blank";
    a.rel = "noopener";
    el.appendChild(a);
  }

  function mount(el) {
    var kind = el.getAttribute("data-attest-widget");
    var slug = el.getAttribute("data-merchant");
    var product = el.getAttribute("data-product");
    if (!slug || el.getAttribute("data-attest-done")) return;
    var lang = language(el), data;
    if (kind === "stars") {
      // The product in the query, not the path: an id may be "a/b" or "..", which a path would resolve.
      data = get(enc(slug) + "/summary.json" + (product ? "?product=" + enc(product) : ""));
    } else if (kind === "reviews") {
      var limit = Math.min(50, Math.max(1, parseInt(el.getAttribute("data-limit"), 10) || 5));
      data = get(enc(slug) + "/reviews.json?per_page=" + limit + (product ? "&product=" + enc(product) : ""));
    } else {
      return;
    }
    el.setAttribute("data-attest-done", "1");
    // Only the strings of the language shown are loaded, never every locale.
    Promise.all([get("i18n/" + lang + ".json"), data]).then(function (res) {
      if (kind === "stars") renderStars(el, res[0], lang, res[1]);
      else renderReviews(el, res[0], lang, res[1], slug);
    }).catch(function () { el.removeAttribute("data-attest-done"); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-attest-widget]"), mount);
  }

  window.AttestWidgets = { refresh: start };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
