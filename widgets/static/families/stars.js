/* The star snippet: a product's (or the shop's) average and count on one line, for a product page and
   for each tile of a collection page. The snippets mounted together are answered by one ratings.json
   request per shop (up to 100 products each), never one per tile. */
var css = "__CSS__", waiting = [], batch;

// Settles when the snippet is drawn, with every other of its batch.
export default (c, A) => {
  A.style(c.root, css);
  if (waiting.push(c) == 1) batch = new Promise((ok) => setTimeout(() => ok(flush(A))));
  return batch;
};

var flush = (A) => {
  var shops = {}, asked = [];
  waiting.splice(0).forEach((c) => (shops[c.slug] = shops[c.slug] || []).push(c));
  Object.entries(shops).forEach(([slug, all]) => {
    var ids = [...new Set(all.map((c) => c.product).filter(Boolean))];
    for (var i = 0; !i || i < ids.length; i += 100) {
      asked.push(A.get(A.enc(slug) + "/ratings.json?products=" + ids.slice(i, i + 100).map(A.enc).join(","))
        .then((r) => all.forEach((c) => render(c, A, c.product ? r.products[c.product] : r.shop))));
    }
  });
  return Promise.all(asked);
};

var render = (c, A, r) => {
  // No reviews: nothing, on the line the page keeps for it (a row of tiles stays even).
  if (!r || !r.count || c.box.firstChild) return;
  var avg = A.num(r.average, c.lang);
  var line = A.el("span", "line", null, c.box);
  line.append(A.stars(r.average, c.t("rated", { avg, num: r.count })));
  A.el("span", "n", avg + " (" + r.count + ")", line).ariaHidden = "true";
};
