/* The review list: the summary with its histogram (each bar filters), a product's topic chips (what
   buyers mention: a chip filters the list to the reviews that mention it, the mention marked), a star
   filter and the sort, "show more" paging, every language pooled (the visitor's first, the others
   labelled), the shop's replies, the verification labels, each review's photos (thumbnails with their
   sizes set, loaded lazily; a click opens the lightbox of the extras family, which also marks the
   mentions once a chip is chosen), and links to the public page and to how reviews are verified. It
   builds itself from reviews.json (a product's carries its topics, so the chips come with the list and
   nothing moves later), or takes over the same markup server-rendered (the SEO fragment); either way
   one set of handlers drives it. */
export var css = "__CSS__";

export default (c, A) => {
  var t = c.t, el = A.el, box = c.box, page = A.page(c.slug, c.product), at = 1, R = [5, 4, 3, 2, 1], x, tp;
  var per = Math.min(50, parseInt(box.dataset.per || c.h.dataset.limit, 10) || 5);
  var pr = c.product ? "&product=" + A.enc(c.product) : "";
  var url = (f) => A.enc(c.slug) + "/reviews.json?lang=" + c.lang + "&per_page=" + per + "&page=" + at + pr +
    (f ? "&sort=" + f.sort.value + (f.stars.value ? "&stars=" + f.stars.value : "") + (tp ? "&topic=" + tp : "") : "");

  var select = (form, name, label, options) => {
    var s = el("select", 0, null, el("label", 0, label + " ", form));
    s.name = name;
    options.forEach((o) => el("option", 0, o[1], s).value = o[0]);
  };

  var build = (d) => {
    var s = d.summary, T = d.topics, hist, f;
    A.style(c.root, css);
    el("h2", "h", t("title"), box);
    box.dataset.shop = d.shop.name;
    box.style.setProperty("--s", d.shop.accent);
    if (s.count) {
      x = el("p", "avg", null, el("div", "sum", null, box));
      f = A.num(s.average, c.lang);
      el("b", 0, f, x).ariaHidden = "true";
      x.append(A.stars(s.average, t("rated", { avg: f, num: s.count })));
      el("span", "n", t("count", { num: s.count }), x).ariaHidden = "true";
      hist = el("ul", "hist", null, x.parentNode);
      hist.ariaLabel = t("filter");
      // Each bar a link to that rating's reviews (a filter here): "5 stars ▆▆▆ 30", named by its words.
      R.forEach((n) => {
        var k = s.distribution[n], a = el("a", 0, null, el("li", 0, null, hist)), p;
        a.href = page + "?stars=" + n;
        a.dataset.stars = n;
        el("span", 0, t("nstars", { num: n }), a);
        p = el("progress", 0, null, a);
        p.max = s.count;
        p.value = k;
        p.ariaHidden = "true";
        el("span", 0, k, a);
      });
      if (T && T[0]) {
        x = el("ul", "chips", null, box);
        x.ariaLabel = t("mention");
        T.map((k, l) => {
          var b = el("button", 0, null, el("li", 0, null, x));
          b.value = k.id;
          el("b", 0, (l = k.label).text, b).lang = l.lang;
          b.append((l.in_visitor_language ? "" : " (" + t("mentioned", { language: l.language_name }) + ")") + " · " +
            t("count", { num: k.reviews }) + " · " + t("split", { high: k.stars["4-5"], low: k.stars["1-2"] }));
        });
      }
      f = el("form", "tools", null, box);
      f.action = page;
      select(f, "stars", t("filter"), [["", t("all")], ...R.map((n) => [n, t("nstars", { num: n })])]);
      select(f, "sort", t("sort"), ["newest", "highest", "lowest"].map((k) => [k, t(k)]));
      el("p", "status", null, box).role = "status";
      el("ul", "list", null, box);
      el("button", "more", t("more"), box).type = "button";
    } else {
      el("p", "none", t("none"), box);
    }
    x = el("p", "foot", null, box);
    el("a", 0, t("page", { name: d.shop.name }), x).href = page;
    x.append(" · ");
    el("a", 0, t("how"), x).href = A.base + "/verification/" + A.enc(c.slug);
    return d;
  };

  var wire = (first) => {
    var list = box.querySelector(".list"), form = box.querySelector(".tools");
    if (!list) return;
    var stars = form.elements.stars;

    var fill = (d, reset) => {
      var added = d.reviews.map((r) => card(c, A, r, box.dataset.shop, 1));
      box.querySelectorAll(".chips button").forEach((b) => b.ariaPressed = b.value == tp);
      if (reset) list.textContent = "";
      list.append(...added);
      box.querySelector(".more").hidden = d.page >= d.pages;
      box.querySelector(".status").textContent = t("showing", { shown: list.children.length, num: d.total });
      box.querySelectorAll("[data-stars]").forEach((a) => a.ariaCurrent = a.dataset.stars == stars.value || null);
      return added[0];
    };

    var load = (reset) => {
      at = reset ? 1 : at + 1;
      return A.get(url(form.elements)).then((d) => fill(d, reset));
    };

    if (first) fill(first, 1);
    box.addEventListener("change", () => load(1));
    box.addEventListener("click", (e) => {
      var bar = e.target.closest("[data-stars]"), chip = e.target.closest(".chips button");
      var ph = e.target.closest(".ph a");
      if (ph || chip) {
        e.preventDefault();
        A.load("extras").then((m) => {
          c.x = m;
          // A chip: its topic chosen (or let go, the second time) before the list is asked for again.
          ph ? m.default(c, A, ph) : load(1, tp = tp == chip.value ? "" : chip.value);
        });
      } else if (bar) {
        e.preventDefault();
        stars.value = stars.value == bar.dataset.stars ? "" : bar.dataset.stars;
        load(1);
      } else if (e.target.closest(".more")) {
        e.preventDefault();
        // The first review added is where the keyboard and a screen reader go on from.
        load(0).then((li) => {
          if (li) {
            li.tabIndex = -1;
            li.focus();
          }
        });
      }
    });
  };

  return box.firstChild ? wire() : A.get(url()).then(build).then(wire);
};

// `ph`: with the review's photos (the carousel's fixed-height slides show the words only).
export var card = (c, A, r, shop, ph) => {
  var t = c.t, el = A.el, li = el("li", "r"), top = el("p", "top", null, li), x;
  top.append(A.stars(r.rating, t("stars", { rating: r.rating })));
  if (r.verified) el("span", "tag ok", "✓ " + t("verified"), top);
  else if (r.method == "imported") el("span", "tag", t("imported"), top);
  // Languages pooled: each review not in the visitor's says which it is in (reviews.json's codes are
  // well-formed, which Intl.DisplayNames asks).
  if (r.language && r.language != c.lang) {
    el("span", "tag", t("written", { language: new Intl.DisplayNames(c.lang, { type: "language" }).of(r.language) }), top);
  }
  if (r.title) el("h3", "t", r.title, li);
  if (r.body) el("p", "b", r.body, li);
  if (ph && r.photos[0]) {
    x = el("ul", "ph", null, li);
    r.photos.map((p) => {
      var a = el("a", 0, null, el("li", 0, null, x));
      a.href = p.url;
      // Its width and height (the photo's: the same proportions) reserve its space before it loads.
      Object.assign(el("img", 0, null, a), p, { src: p.thumb_url, loading: "lazy" });
    });
  }
  // Under a topic chip (the extras family is loaded by then), the words that mention it are marked.
  if (r.mentions) c.x.mark(A, li, r);
  if (r.reply) {
    x = el("div", "rep", null, li);
    el("p", "t", t("reply", { name: shop }), x);
    el("p", "b", r.reply.body, x);
  }
  x = el("p", "m", (r.display_name || t("anonymous")) + " · ", li);
  el("time", 0, A.date(r.written_at, c.lang), x).dateTime = r.written_at;
  if (r.edited_at) x.append(" · " + t("edited", { date: A.date(r.edited_at, c.lang) }));
  return li;
};
