"""The public pages of a shop's reviews: `/shops/{slug}` and `/shops/{slug}/products/{product_id}`.

What every trust badge links to and what search engines index: server-rendered, no script at all,
readable on a phone, in the visitor's language, with the shop's own figures on how its reviews
were handled (`widgets.transparency`). Read-only, like the rest of `widgets`; the application hands
in its catalog, branding rules and reject reasons (`widgets.pages.config`).

- `config`: what the application hands in;
- `language`: the page's language, the reviews' languages and their names;
- `params`: the query (filters, sort, page) checked, and the links that keep it;
- `present`: a review as the page shows it (dates, verification, language, reply);
- `figures`: the transparency figures in words;
- `seo`: canonical and alternate addresses, robots, the product's JSON-LD, the sitemap;
- `render`: templates, the style's hash for the Content-Security-Policy, error pages;
- `views` and `routes`: the handlers and their routes.
"""
