/* What the review list needs only once a visitor asks for it, fetched on the first click that does:
   - the default, the lightbox: a thumbnail's photo in a modal <dialog> in the widget's shadow root.
     Esc (the dialog's own), the close button or a click beside the photo closes it, and the keyboard
     goes back to the thumbnail it came from.
   - `mark`: under a topic chip, the words of a review that mention the topic, marked. The text only
     ever goes in as text. */
export var css = "__CSS__";

export default (c, A, a) => {
  var g = c.root.querySelector(".lb");
  if (!g) {
    A.style(c.root, css);
    g = A.el("dialog", "lb", null, c.root);
    A.el("button", 0, c.t("close"), g).type = "button";
    A.el("img", 0, null, g);
    g.onclick = (e) => e.target.tagName != "IMG" && g.close();
    g.onclose = () => g.o.focus();
  }
  // The thumbnail's words are the photo's alt text.
  Object.assign(g.lastChild, { src: a.href, alt: a.firstChild.alt });
  g.o = a;
  g.showModal();
};

// The title (.t) and the text (.b) come first in a card, before the shop's reply.
export var mark = (A, li, r) => ["title", "body"].map((k, i) => {
  var e = li.querySelector(i ? ".b" : ".t"), s = r[k], a = 0;
  if (r.mentions.some((m) => m.field == k)) {
    e.textContent = "";
    r.mentions.map((m) => m.field == k && m.start >= a &&
      e.append(s.slice(a, m.start), A.el("mark", 0, s.slice(m.start, a = m.end))));
    e.append(s.slice(a));
  }
});
