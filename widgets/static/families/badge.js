/* The trust badge: the shop's name, its rating, how many of its reviews are verified (written from an
   invitation after a real order) and "Verified by Attest" only when some are; a link to the public page.
   A seal that cannot be copied: Attest is asked whether this website is one the shop registered
   (badge.json?host=), and on any other the badge shows a warning instead of the rating. */
var css = "__CSS__";

export default function (c, A) {
  var t = c.t, el = A.el, host = location.hostname;
  // A page opened from a file has no host: no website, no verdict, the warning.
  return A.get(A.enc(c.slug) + "/badge.json?host=" + A.enc(host || "localhost") +
               (c.product ? "&product=" + A.enc(c.product) : ""))
    .then(function (d) {
      var a = el("a", d.registered ? "bd" : "bd warn", null, c.box), tx, line, x;
      A.style(c.root, css);
      c.box.style.setProperty("--s", d.shop.accent);
      a.href = A.page(c.slug, c.product);
      el("span", "seal", d.registered ? "✓" : "!", a).setAttribute("aria-hidden", "true");
      tx = el("span", "tx", null, a);
      if (!d.registered) {
        el("strong", 0, t("warn"), tx);
        el("span", "why", t("notreg", { host: host || "?", name: d.shop.name }), tx);
        return;
      }
      el("strong", 0, d.shop.name, tx);
      line = el("span", 0, null, tx);
      if (d.count) {
        x = A.num(d.average, c.lang);
        line.appendChild(A.stars(d.average, t("rated", { avg: x, num: d.count })));
        el("span", 0, " " + x + "/5 · " + t("count", { num: d.count }), line).setAttribute("aria-hidden", "true");
      } else {
        line.textContent = t("none");
      }
      if (d.verified) el("span", "by", t("vcount", { num: d.verified }) + " · " + t("by"), tx);
    });
}
