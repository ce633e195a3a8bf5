/* Attest widgets: one loader for every family. Plain script, no framework, no cookies, no request to
   anyone but Attest. A family's code (js/<family>.js; the star snippet's is built in) is fetched only when
   the page uses it, the strings
   of one language only (i18n/<lang>.json), and a widget's data only when it comes near the viewport
   (the star snippets at once: they sit at the top, one request for all of them).

   <div data-attest-widget="stars|reviews|carousel|badge" data-merchant="slug" data-product="id"
        data-lang="de" data-limit="5" data-autoplay="6">&nbsp;</div>

   Each widget renders into a shadow root: the page's styles cannot reach in, nor the widget's out;
   the page's font family is inherited, and --attest-accent, --attest-star, --attest-text,
   --attest-muted and --attest-background theme it.

   Nothing on the page moves when a widget comes: each keeps the height the element had before this
   script ran (its fallback content: a line of text for the stars, or, under any Content-Security-
   Policy, an <svg aria-hidden="true" width="1" height="..."> placeholder for the others), and at least
   its family's fixed height (stars 20px, badge 76px, carousel 300px); a review list given none gets
   an estimate from data-limit. A height kept but not filled is let go once out of view. A
   server-rendered fragment (reviews.html, declarative shadow DOM) is taken over, not drawn twice. */
((w, d) => {
  var me = d.currentScript;
  // (A browser with shadow roots and IntersectionObserver has fetch, import() and Intl too.)
  if (!me || !d.head.attachShadow || !w.IntersectionObserver) return;
  var api = me.src.replace(/embed\.js([?#].*)?$/, "");
  var base = api.replace(/\/widgets\/v1\/$/, "");
  // Replaced when served: the style sheet every family shares, and each family's version.
  var CSS = "__CSS__", V = "__V__";
  // The fixed heights (px) of the families that have one (the stars': one line at least), replaced
  // when served (scripts.HEIGHTS: the console's snippets keep the same).
  var HEIGHT = "__H__";
  var enc = encodeURIComponent;

  // The star snippet, built in: it sits at the top of product and collection pages, where a module of
  // its own would be one more request before anything is drawn. A product's (or the shop's) average and
  // count on one line; the snippets mounted together are answered by one ratings.json request per shop
  // (up to 100 products each), never one per tile. Its own style sheet: one line of exactly 20px.
  var STARS = "__STARS_CSS__", waiting = [], batch;

  var rate = (c, r) => {
    // No reviews: nothing, on the line the page keeps for it (a row of tiles stays even).
    if (!r || !r.count || c.box.firstChild) return;
    var avg = A.num(r.average, c.lang);
    var line = el("span", "line", null, c.box);
    line.append(A.stars(r.average, c.t("rated", { avg, num: r.count })));
    el("span", "n", avg + " (" + r.count + ")", line).ariaHidden = "true";
  };

  var flush = () => {
    var shops = {}, asked = [];
    waiting.splice(0).forEach((c) => (shops[c.slug] = shops[c.slug] || []).push(c));
    Object.entries(shops).forEach(([slug, all]) => {
      var ids = [...new Set(all.map((c) => c.product).filter(Boolean))];
      for (var i = 0; !i || i < ids.length; i += 100) {
        asked.push(get(enc(slug) + "/ratings.json?products=" + ids.slice(i, i + 100).map(enc).join(","))
          .then((r) => all.forEach((c) => rate(c, c.product ? r.products[c.product] : r.shop))));
      }
    });
    return Promise.all(asked);
  };

  // Settles when the snippet is drawn, with every other of its batch.
  var stars = (c) => {
    style(c.root, STARS);
    if (waiting.push(c) == 1) batch = new Promise((ok) => setTimeout(() => ok(flush())));
    return batch;
  };

  var got = {}, mods = { stars: { default: stars } }, sheets = {};

  var get = (path) => got[path] || (got[path] = fetch(api + path, { credentials: "omit" }).then((r) => {
    if (!r.ok) throw r.status;
    return r.json();
  }).catch((e) => {
    delete got[path];
    throw e;
  }));

  // Text only ever goes in through textContent: review text is never parsed as HTML.
  var el = (tag, cls, text, parent) => {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    if (parent) parent.append(e);
    return e;
  };

  // A constructed sheet is no inline style to the page's Content-Security-Policy, and one object
  // serves every widget of the page; a <style> element where the browser has none.
  var style = (root, css) => {
    try {
      var s = sheets[css];
      if (!s) (s = sheets[css] = new CSSStyleSheet()).replaceSync(css);
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, s];
    } catch (e) {
      el("style", 0, css, root);
    }
  };

  // The element's data-lang, else the page's language, else the browser's; English if not one of ours.
  var language = (h) => {
    var l = (h.dataset.lang || d.documentElement.lang || navigator.language || "").slice(0, 2).toLowerCase();
    return /^(en|es|it|pl|ro|de|fr)$/.test(l) ? l : "en";
  };

  // The strings of one language as a function: t("count", {num: 3}) picks the plural form.
  var strings = (t, lang) => {
    var plural = new Intl.PluralRules(lang), nf = new Intl.NumberFormat(lang);
    return (key, v) => {
      v = v || {};
      return (t[key] || t[key + "_" + plural.select(v.num)] || t[key + "_other"] || key)
        .replace(/\{(\w+)\}/g, (m, k) => typeof v[k] == "number" ? nf.format(v[k]) : k in v ? v[k] : m);
    };
  };

  // What every family may use.
  var A = {
    get, el, style, enc, base,
    load: (kind) => mods[kind] || (mods[kind] = import(api + "js/" + kind + ".js?v=" + V[kind])),
    // The public page of the shop's reviews, or of one product's.
    page: (slug, product) => base + "/shops/" + enc(slug) + (product ? "/products/" + enc(product) : ""),
    num: (v, lang) => new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v),
    date: (iso, lang) => new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(iso)),
    // Grey stars under gold ones cut at the nearest half star; the label says it in words.
    stars: (value, label) => {
      var s = el("span", "st");
      s.role = "img";
      s.ariaLabel = label;
      el("i", 0, null, s).style.width = Math.round(value * 2) * 10 + "%";
      return s;
    }
  };

  // The height kept for a widget is let go only once it is out of view, so nothing moves under the
  // reader's eyes (above the view, the browser's scroll anchoring keeps the page still).
  var settle = (c) => {
    var o = new IntersectionObserver((e) => {
      if (!e[0].isIntersecting) {
        c.box.style.minHeight = "";
        o.disconnect();
      }
    });
    o.observe(c.h);
    return 1;
  };

  // `done` on the element's `attest` once the widget is drawn (for a page's script, and the tests).
  var show = (c) => Promise.all([A.load(c.kind), get("i18n/" + c.lang + ".json")]).then((r) => {
    c.t = strings(r[1], c.lang);
    return r[0].default(c, A);
  }).then(() => c.done = c.kind == "stars" || settle(c), () => c.box.style.minHeight = "");

  var near = new IntersectionObserver((entries) => entries.forEach((e) => {
    if (e.isIntersecting) {
      near.unobserve(e.target);
      show(e.target.attest);
    }
  }), { rootMargin: "800px" });

  var mount = (h) => {
    var kind = h.dataset.attestWidget, slug = h.dataset.merchant, line = h.offsetHeight;
    var root = h.shadowRoot, tpl = h.querySelector("template[shadowrootmode]");
    // A family is the built-in stars or one with a version ("toString" would fail to load, harmlessly).
    if (h.attest || !slug || !(kind == "stars" || kind in V)) return;
    // A fragment inserted by script, or in a browser without declarative shadow DOM: attached now.
    if (!root && tpl) {
      (root = h.attachShadow({ mode: "open" })).append(tpl.content);
      tpl.remove();
    }
    var box = root && root.querySelector(".w");
    if (!box) {
      style(root = h.attachShadow({ mode: "open" }), CSS);
      box = el("div", "w", null, root);
      // The height the page gave the element before this script ran (its fallback content), at least
      // the family's own where it has a fixed one; the review list's is the page's, or an estimate.
      var fixed = HEIGHT[kind], n = Math.min(50, +h.dataset.limit || 5);
      box.style.minHeight = (fixed ? Math.max(line, fixed) : line || 390 + 150 * n) + "px";
    }
    h.attest = { h, kind, slug, product: h.dataset.product || "", lang: box.lang = language(h), root, box };
    kind == "stars" ? show(h.attest) : near.observe(h);
  };

  var start = () => d.querySelectorAll("[data-attest-widget]").forEach(mount);

  w.AttestWidgets = { refresh: start };
  start();
  d.addEventListener("DOMContentLoaded", start);
})(window, document);
