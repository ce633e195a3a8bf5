"""What shops embed: script, badges, iframe page, SEO fragment, public JSON, JSON-LD and feeds. Read-only.

Everything lives under /widgets/v1 (see `widgets.routes`), is public, CORS-open and cacheable:

    <script async src="https://attest.example/widgets/v1/embed.js"></script>
    <div data-attest-widget="stars" data-merchant="demo-shop" data-product="SKU-1">&nbsp;</div>
    <div data-attest-widget="reviews" data-merchant="demo-shop" data-product="SKU-1" data-limit="5"></div>
    <div data-attest-widget="carousel" data-merchant="demo-shop" data-lang="de"></div>
    <div data-attest-widget="badge" data-merchant="demo-shop"></div>
    <img src="https://attest.example/widgets/v1/demo-shop/badge.svg?lang=de" alt="">
    <iframe src="https://attest.example/widgets/v1/demo-shop/widget.html?lang=de" title="Reviews"></iframe>

and for Google: /widgets/v1/demo-shop/jsonld.json?product=SKU-1, /widgets/v1/demo-shop/feed.xml (product
reviews, schema 2.4) and /widgets/v1/demo-shop/merchant-feed.xml (seller ratings),
and, included by the shop's server, /widgets/v1/demo-shop/products/SKU-1/reviews.html.

Only published reviews are shown; only invited ones are labelled "verified buyer".
"""
