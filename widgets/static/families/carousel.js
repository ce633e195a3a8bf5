/* The testimonials carousel: the shop's reviews (or a product's), newest first, every language pooled,
   one card per slide in a scroll-snapped track of a fixed height. Buttons and the arrow keys move it;
   it never moves by itself unless the page asks (data-autoplay="6": seconds per slide), and then not
   for a visitor who prefers reduced motion, never while the pointer or the focus is on it, and with
   a pause button. */
var css = "__CSS__";

export default function (c, A) {
  var t = c.t, el = A.el, auto = parseInt(c.h.dataset.autoplay, 10) || 0;
  var n = Math.min(20, Math.max(1, parseInt(c.h.dataset.limit, 10) || 10));
  var reduce = matchMedia("(prefers-reduced-motion: reduce)").matches;
  return Promise.all([
    A.get(A.enc(c.slug) + "/reviews.json?lang=" + c.lang + "&per_page=" + n + (c.product ? "&product=" + A.enc(c.product) : "")),
    A.load("reviews")
  ]).then(function (r) {
    var d = r[0], s = d.summary, sec = el("section", "cr", null, c.box), bar = el("div", "bar", null, sec);
    var paused = !auto || reduce, hold = 0, timer, track, pause, foot, x;
    A.style(c.root, r[1].css);
    A.style(c.root, css);
    c.box.style.setProperty("--s", d.shop.accent);
    sec.setAttribute("aria-roledescription", t("carousel"));
    sec.setAttribute("aria-label", t("title"));
    el("h2", "h", t("title"), bar);

    function button(cls, text, label, go) {
      var b = el("button", cls, text, bar);
      b.type = "button";
      if (label) b.setAttribute("aria-label", label);
      b.onclick = go;
      return b;
    }

    // One slide on, or back; from the last to the first and the other way round (the snap points sit
    // a few pixels in: the track's padding).
    function step(k) {
      var w = track.firstChild.offsetWidth, max = track.scrollWidth - track.clientWidth, at = track.scrollLeft;
      track.scrollTo({
        left: k > 0 && at > max - 9 ? 0 : k < 0 && at < 9 ? max : at + k * w,
        behavior: reduce ? "auto" : "smooth"
      });
    }

    function tick() {
      clearInterval(timer);
      if (!paused && !hold) timer = setInterval(() => step(1), auto * 1000);
    }

    if (auto) {
      pause = button("pp", t(paused ? "play" : "pause"), 0, function () {
        paused = !paused;
        pause.textContent = t(paused ? "play" : "pause");
        tick();
      });
    }
    button("pv", "‹", t("prev"), function () {
      step(-1);
    });
    button("nx", "›", t("next"), function () {
      step(1);
    });
    track = el("div", "trk", null, sec);
    // Focusable, so that a keyboard can scroll it (and the arrow keys move it slide by slide).
    track.tabIndex = 0;
    track.setAttribute("aria-label", t("title"));
    d.reviews.forEach(function (rv, i) {
      var slide = el("div", "sl", null, track), li = r[1].card(c, A, rv, d.shop.name);
      slide.setAttribute("role", "group");
      slide.setAttribute("aria-roledescription", t("slide"));
      slide.setAttribute("aria-label", t("slideof", { index: i + 1, count: d.reviews.length }));
      [].slice.call(li.childNodes).forEach(function (node) {
        slide.appendChild(node);
      });
    });
    if (!d.reviews.length) el("p", "none", t("none"), track);
    foot = el("p", "foot", null, sec);
    if (s.count) {
      x = A.num(s.average, c.lang);
      foot.appendChild(A.stars(s.average, t("rated", { avg: x, num: s.count })));
      foot.append(" " + x + " · " + t("count", { num: s.count }) + " · ");
    }
    el("a", 0, t("page", { name: d.shop.name }), foot).href = A.page(c.slug, c.product);

    sec.addEventListener("keydown", function (e) {
      var k = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
      if (k && e.target.tagName != "SELECT") {
        e.preventDefault();
        step(k);
      }
    });
    ["mouseenter", "focusin", "mouseleave", "focusout"].forEach(function (type, i) {
      sec.addEventListener(type, function () {
        hold = i < 2;
        tick();
      });
    });
    tick();
  });
}
