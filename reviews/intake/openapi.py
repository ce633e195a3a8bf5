"""The OpenAPI document at /openapi.json. The request bodies' schemas are generated from the very
pydantic models that check them (`events.OrderEventBody`, `settings.SettingsPatch`); the answers are
described here, every status each route gives among them (tests/intake/test_api_schema.py holds the
app to this document with schemathesis)."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews import __version__
from reviews.hooks import schemas
from reviews.intake.events import STATUSES, OrderEventBody
from reviews.merchants.settings import DEFAULT_SETTINGS, HOST_PATTERN, MAX_DOMAINS, SECRET_SETTINGS, SettingsPatch
from reviews.platform import bodies
from reviews.platform.settings import SUPPORTED_LOCALES
from widgets import hosts as widget_hosts
from widgets import listing, ratings
from widgets import params as widget_params


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_WHY = {
    400: "The body is not JSON, or not an object (for a widget: a query value PostgreSQL cannot hold)",
    401: "Missing or wrong API key (or webhook signature)",
    404: "Not found",
    413: "Body over 1 MB",
    422: "Invalid fields: `fields` names each, by its path (`customer.email`, `products.0.id`), or the query "
         "parameter",
    429: "Too many wrong API keys from this address",
    503: "The database is briefly out of reach",
}


def _errors(*codes: int) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for code in codes:
        answers[str(code)] = {"description": _WHY[code], "content": {"application/json": {"schema": _ref("Error")}}}
        if code in (429, 503):
            answers[str(code)]["headers"] = _RETRY_AFTER
    return answers


def _ok(schema: dict[str, Any], description: str = "OK", **extra: Any) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}, **extra}}



# Every /api/v1 route checks the key first, against the database.
_KEYED = (401, 429, 503)


def _count(name: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "description": name}


def _setting_schema(key: str, default: Any) -> dict[str, Any]:
    """A setting as GET answers it: typed like its default, so that generated clients type it too."""
    if key in SECRET_SETTINGS:
        return {"type": ["string", "null"], "enum": ["set", None],
                "description": "\"set\" or null: a secret is never sent back"}
    if key == "timezone":
        return {"type": "string", "enum": list(bodies.ZONES)}
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "integer", "minimum": 0}
    return {"type": ["string", "null"]}


def _answers() -> dict[str, Any]:
    """The schemas of what the API answers."""
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "fields"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
        "Invitation": {"type": "object", "required": ["state", "reason", "send_at"], "properties": {
            "state": {"type": "string", "enum": ["scheduled", "sent", "skipped", "cancelled", "failed"]},
            "reason": {"type": ["string", "null"]}, "send_at": nullable_time}},
        "OrderAnswer": {"type": "object", "required": ["order_id", "status", "order_status", "invitation"],
                        "properties": {
                            "order_id": {"type": "string"}, "status": {"type": "string", "enum": list(STATUSES)},
                            "order_status": {"type": "string", "enum": list(STATUSES)},
                            "invitation": {"anyOf": [_ref("Invitation"), {"type": "null"}]}}},
        "Settings": {"type": "object", "required": [*DEFAULT_SETTINGS, "domains"], "properties": {
            **{key: _setting_schema(key, value) for key, value in DEFAULT_SETTINGS.items()},
            "domains": {"type": "array", "maxItems": MAX_DOMAINS,
                        "items": {"type": "string", "pattern": HOST_PATTERN},
                        "description": "The shop's registered website host names"}}},
        "Merchant": {"type": "object", "required": ["slug", "name", "locale", "settings"], "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The shop's public name"},
            "locale": {"type": "string"}, "settings": _ref("Settings")}},
        "Stats": {"type": "object", "required": ["merchant", "invitations"], "properties": {
            "merchant": {"type": "string"},
            "invitations": {"type": "object", "properties": {
                **{name: _count(name) for name in (
                    "ordered", "awaiting", "scheduled", "sent", "opened", "failed", "cancelled",
                    "too_old_to_invite", "reminder_scheduled", "reminded", "reviewed")},
                "skipped": counts, "reminder_skipped": counts}}}},
        "Summary": {"type": "object", "required": ["average", "count", "distribution"], "properties": {
            "average": {"type": ["number", "null"]}, "count": {"type": "integer", "minimum": 0},
            "distribution": counts}},
        **_widget_answers(),
        "DataExport": {"type": "object", "properties": {
            "id": {"type": "integer"}, "source": {"type": "string"}, "request_id": {"type": ["string", "null"]},
            "requested_at": {"type": "string", "format": "date-time"},
            "state": {"type": "string", "enum": ["waiting", "delivered", "erased"]},
            "delivered_at": nullable_time, "delivered_by": {"type": ["string", "null"]},
            "erased_at": nullable_time, "orders": {"type": "integer"}, "reviews": {"type": "integer"},
            "buyer": {"type": ["string", "null"], "description": "The address asked about, masked: a***@example.com"}}},
        "DataExports": {"type": "object", "required": ["exports"], "properties": {
            "exports": {"type": "array", "items": _ref("DataExport")}}},
        "Health": {"type": "object", "required": ["status", "database"], "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "error"]},
            "database": {"type": "string", "enum": ["ok", "unreachable"]},
            "worker": {"type": "object", "properties": {"state": {"type": "string", "enum": ["ok", "stalled"]},
                                                        "seconds_since_loop": {"type": "number"}}}}},
        "WebhookAnswer": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
        **_topic_answers(nullable_time, counts),
    }


def _topic_answers(nullable_time: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    """topics.json: what buyers mention (computed by `reviews.insights`, chosen for the visitor by
    `widgets.topics`). Every label and quote is a clause of a published review, verbatim."""
    phrase = {"review_id": {"type": "integer", "description": "the review the words come from"},
              "text": {"type": "string", "description": "a buyer's own words, verbatim"},
              "lang": {"type": "string", "description": "the language they are in"}}
    return {
        "TopicQuote": {"type": "object", "required": ["review_id", "text", "lang", "rating"], "properties": {
            **phrase, "rating": {"type": "integer", "minimum": 1, "maximum": 5}}},
        "Topic": {"type": "object", "required": ["id", "label", "reviews", "stars", "languages", "quotes"],
                  "properties": {
                      "id": {"type": "integer", "description": "valid until the next recomputation"},
                      "label": {"type": "object", "required": [
                          "text", "lang", "review_id", "in_visitor_language", "language_name"], "properties": {
                          **phrase,
                          "in_visitor_language": {"type": "boolean", "description": (
                              "false: no buyer mentioned it in the visitor's language; the label is in the "
                              "language most of its reviews are in (say so: 'mentioned in Polish')")},
                          "language_name": {"type": "string",
                                            "description": "`lang` named in the visitor's language"}}},
                      "reviews": {"type": "integer", "minimum": 1,
                                  "description": "published reviews that mention it (each counted once)"},
                      "stars": {"type": "object", "required": ["4-5", "3", "1-2"], "description": (
                          "how those reviews rated the product: how many gave 4-5, 3 and 1-2 stars"),
                                "properties": {band: {"type": "integer", "minimum": 0}
                                               for band in ("4-5", "3", "1-2")}},
                      "languages": {**counts, "description": "those reviews by language"},
                      "quotes": {"type": "array", "maxItems": 3, "items": _ref("TopicQuote"), "description": (
                          "two or three of its most representative clauses from distinct reviews, the visitor's "
                          "language first, a 4-5 and a 1-2 star one where it has both")}}},
        "Topics": {"type": "object", "required": ["product_id", "lang", "computed_at", "reviews", "topics"],
                   "properties": {
                       "product_id": {"type": ["string", "null"], "description": "null: the shop's own reviews"},
                       "lang": {"type": "string", "description": "the visitor's language the answer is chosen for"},
                       "computed_at": {**nullable_time, "description": "null: not computed yet"},
                       "reviews": {"type": "integer", "minimum": 0, "description": "published reviews read"},
                       "topics": {"type": "array", "items": _ref("Topic"),
                                  "description": "most mentioned first; each from 3+ reviews by 3+ authors"}}},
    }


def _topics_path(product_in_path: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "lang", "in": "query", "required": False,
         "schema": {"type": "string", "enum": list(SUPPORTED_LOCALES)},
         "description": "the visitor's language (default: the shop's)"}]
    if product_in_path:
        parameters.append({"name": "product_id", "in": "path", "required": True,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
    else:
        parameters.append({"name": "product", "in": "query", "required": False,
                           "schema": {"type": "string", "maxLength": 200},
                           "description": "a product's topics instead of the shop's own reviews'"})
    return {"get": {
        "summary": ("What buyers mention in a product's published reviews" if product_in_path else
                    "What buyers mention in the shop's own published reviews (reviews of no product)"),
        "description": ("Topics grouped from the reviews' clauses across languages, recomputed shortly after "
                        "the published reviews change. Labels and quotes are buyers' own words; every figure "
                        "counts published reviews. 404 while there is no published review to read."),
        "parameters": parameters,
        "responses": {**_ok(_ref("Topics")), **_errors(404, 422, 503), "400": {
            "description": "The URL holds text no database can store (a NUL, a lone surrogate)",
            "content": {"application/json": {"schema": _ref("Error")}}}}}}
# --- the public widget endpoints (/widgets/v1): no key, CORS-open, cached briefly, ETags -----------------

_PRODUCT_ID = {"type": "string", "maxLength": 200, **bodies.NUL_FREE}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


_PRODUCT = _query("product", _PRODUCT_ID, "Only this product's (empty or absent: the whole shop's)")


def _widget_answers() -> dict[str, Any]:
    time = {"type": "string", "format": "date-time"}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    rating = {"type": "object", "required": ["average", "count"], "properties": {
        "average": {"type": ["number", "null"], "minimum": 1, "maximum": 5,
                    "description": "null when there is no published review"},
        "count": {"type": "integer", "minimum": 0}}}
    review = {"type": "object", "required": [
        "id", "rating", "title", "body", "display_name", "product_id", "product_name", "written_at", "edited_at",
        "language", "verified", "method", "reply", "photos"], "properties": {
        "id": {"type": "integer"}, "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "title": {"type": "string"}, "body": {"type": "string"}, "display_name": {"type": "string"},
        "product_id": {"type": ["string", "null"], "description": "null: a review of the shop itself"},
        "product_name": {"type": ["string", "null"]},
        "written_at": {**time, "description": "When its author wrote it: the date to show (an imported review "
                                              "keeps its source's)"},
        "edited_at": {**nullable_time, "description": "When its author last edited it, if ever"},
        "language": {"type": ["string", "null"], "pattern": "^[a-z]{2,3}$",
                     "description": "The language it is written in, a primary subtag (`pl`), if known"},
        "verified": {"type": "boolean", "description": "Written from an invitation sent after a real order"},
        "method": {"type": "string", "enum": ["invited", "imported"], "description": "How it was collected"},
        "reply": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["body", "replied_at"], "properties": {
            "body": {"type": "string"}, "replied_at": nullable_time}}], "description": "The shop's public reply"},
        "published_at": {**nullable_time, "description": "When Attest published it (not its date)"},
        "submitted_at": {**time, "description": "The same as written_at (kept for earlier clients)"},
        "edited": {"type": "boolean"}, "collection_method": {"type": "string", "enum": ["invited", "imported"]},
        "locale": {"type": ["string", "null"]},
        "photos": {"type": "array", "items": _ref("WidgetPhoto"),
                   "description": "The photos a moderator approved, in the author's order"},
        "mentions": {"type": "array", "items": _ref("TopicMention"), "description": "Only with `topic`: where "
                     "the review mentions the topic, to highlight (character offsets into the title or body)"}}}
    size = {"type": "integer", "minimum": 1}
    photo = {"type": "object", "required": ["url", "thumb_url", "width", "height", "thumb_width", "thumb_height",
                                            "alt"], "properties": {
        "url": {"type": "string", "format": "uri", "description": "The photo, at most 1600 px on its long side"},
        "thumb_url": {"type": "string", "format": "uri", "description": "Its thumbnail, at most 400 px"},
        "width": size, "height": size, "thumb_width": size, "thumb_height": size,
        "alt": {"type": "string", "description": "Its caption, else whose photo of what it is, in the visitor's "
                                                 "language (`lang`)"}}}
    mention = {"type": "object", "required": ["field", "start", "end"], "properties": {
        "field": {"type": "string", "enum": ["title", "body"]},
        "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 1}}}
    shop_properties: dict[str, Any] = {
        "name": {"type": "string"},
        "accent": {"type": "string", "pattern": "^#[0-9a-fA-F]{3,6}$", "description": "The shop's accent colour"}}
    shop = {"type": "object", "required": ["name", "accent"], "properties": shop_properties}
    return {
        "WidgetReview": review,
        "WidgetPhoto": photo,
        "TopicMention": mention,
        "WidgetShop": shop,
        "ReviewsPage": {"type": "object", "required": ["reviews", "page", "per_page", "total", "pages", "summary",
                                                       "shop"], "properties": {
            "reviews": {"type": "array", "items": _ref("WidgetReview")},
            "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0, "description": "How many reviews the filters select"},
            "pages": {"type": "integer", "minimum": 0},
            "summary": {**_ref("Summary"), "description": "Of the shop's (or product's) published reviews, "
                                                          "unfiltered: the histogram"},
            "shop": _ref("WidgetShop"),
            "topics": {"type": "array", "items": _ref("Topic"), "description": (
                "Only with `product`: what buyers mention, as topics.json has it for the visitor's language "
                "(the chips above the list; `topic` filters to one)")}}},
        "Rating": rating,
        "Ratings": {"type": "object", "required": ["shop", "products"], "properties": {
            "shop": _ref("Rating"),
            "products": {"type": "object", "additionalProperties": _ref("Rating"),
                         "description": "Each product asked, by its id (count 0 when it has no published review)"}}},
        "Badge": {"type": "object", "required": ["shop", "host", "registered", "average", "count", "verified", "page"],
                  "properties": {
            "shop": {"type": "object", "required": ["name", "accent", "slug", "domains"], "properties": {
                **shop_properties, "slug": {"type": "string"},
                "domains": {"type": "array", "items": {"type": "string"},
                            "description": "The websites the shop registered (its `domains` setting)"}}},
            "host": {"type": ["string", "null"], "description": "The host asked about, lowercase"},
            "registered": {"type": ["boolean", "null"], "description":
                           "Whether `host` is one of the shop's domains or a subdomain of one; null when no host "
                           "was asked about. When false the figures are withheld: a seal copied to another "
                           "website shows a warning instead"},
            "average": {"type": ["number", "null"]}, "count": {"type": ["integer", "null"], "minimum": 0},
            "verified": {"type": ["integer", "null"], "minimum": 0,
                         "description": "How many published reviews are verified (written after a real order)"},
            "page": {"type": "string", "format": "uri", "description": "The public page of the shop's reviews"}}},
    }


def _embed_paths() -> dict[str, Any]:
    cached = {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}
    per_page = {"type": "integer", "minimum": 1, "maximum": 50}
    visitor = {"type": "string", "pattern": widget_params.VISITOR_LANGUAGE, **bodies.NUL_FREE}
    return {
        "/widgets/v1/{slug}/reviews.json": {"get": {
            "summary": "A page of a shop's published reviews, filtered and sorted, every language listed with the "
                       "visitor's first, with the summary and what a widget shows of the shop",
            "parameters": [
                _SLUG, _PRODUCT,
                _query("page", {"type": "integer", "minimum": 1, "maximum": 100_000}, "From 1"),
                _query("per_page", per_page, "10 unless given"),
                _query("lang", visitor, "The visitor's language (" + ", ".join(SUPPORTED_LOCALES) + "; a tag such as "
                       "`de-AT` is its first part): its reviews first, then the others, each in the sort's order"),
                _query("language", {"type": "string", "pattern": widget_params.REVIEW_LANGUAGE},
                       "Only the reviews written in this language (a primary subtag: `pl`)"),
                _query("sort", {"type": "string", "enum": list(listing.SORTS)},
                       "newest (by when the author wrote it; the default), highest or lowest rating"),
                _query("stars", {"type": "integer", "minimum": 1, "maximum": 5}, "Only the reviews of this rating"),
                _query("with_reply", {"type": "boolean"}, "Only the reviews the shop answered"),
                _query("with_photos", {"type": "boolean"}, "Only the reviews with an approved photo"),
                _query("topic", {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                       "Only the reviews that mention this topic (an id from topics.json), each with its `mentions`"),
            ],
            "responses": {**_ok(_ref("ReviewsPage"), headers=cached), **_errors(400, 404, 422)}}},
        "/widgets/v1/{slug}/ratings.json": {"get": {
            "summary": "The average and count of the shop and of many products in one request (the star snippets "
                       "of a collection page)",
            "parameters": [_SLUG, _query(
                "products", {"type": "array", "maxItems": ratings.MAX_PRODUCTS,
                             "items": {**_PRODUCT_ID, "minLength": 1, "pattern": "^[^,]*$"}},
                f"At most {ratings.MAX_PRODUCTS} product ids, separated by commas (an id holding a comma is sent "
                "as %2C); none for the shop's figures alone", style="form", explode=False)],
            "responses": {**_ok(_ref("Ratings"), headers=cached), **_errors(400, 404, 422)}}},
        "/widgets/v1/{slug}/badge.json": {"get": {
            "summary": "The trust badge's figures, and whether the website asking is one the shop registered",
            "parameters": [_SLUG, _PRODUCT, _query(
                "host", {"type": "string", "maxLength": widget_hosts.MAX_HOST, "pattern": widget_hosts.PATTERN},
                "The host name of the page that shows the badge (`location.hostname`)")],
            "responses": {**_ok(_ref("Badge"), headers=cached), **_errors(400, 404, 422)}}},
        "/widgets/v1/{slug}/products/{product_id}/reviews.html": {"get": {
            "summary": "The SEO fragment: a product's reviews as HTML (a declarative shadow root holding the review "
                       "list, and the product's JSON-LD) for a shop's server or theme to include in its own "
                       "product page; embed.js takes it over. Its style block's hash is in X-Attest-Style-Hash",
            "parameters": [
                _SLUG,
                {"name": "product_id", "in": "path", "required": True,
                 "schema": {"type": "string", "minLength": 1, "maxLength": 200}},
                _query("lang", {"type": "string", **bodies.NUL_FREE},
                       "The language to show (else the shop's); its reviews listed first"),
                _query("per_page", per_page, "How many reviews it holds (10 unless given)"),
            ],
            "responses": {"200": {"description": "The fragment", "content": {"text/html": {"schema": {
                "type": "string"}}}, "headers": {**cached, "X-Attest-Style-Hash": {"schema": {"type": "string"}}}},
                **_errors(400, 404, 422)}}},
    }


def _webhook(summary: str, signature: str, topic: str, *, delivery_id: str | None = None,
             required: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": signature, "in": "header", "required": required, "schema": {"type": "string"},
         "description": "base64 HMAC-SHA256 of the raw body with the shop's webhook secret"},
        {"name": topic, "in": "header", "required": required, "schema": {"type": "string"}}]
    if delivery_id:
        parameters.append({"name": delivery_id, "in": "header", "schema": {"type": "string"}})
    return {"post": {
        "summary": summary, "parameters": parameters,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {**_ok(_ref("WebhookAnswer"), "Processed, ignored or already seen"),
                      **_errors(400, 401, 404, 413, 422, 503)}}}


def _slug() -> dict[str, Any]:
    return {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def _product_query(description: str) -> dict[str, Any]:
    return {"name": "product", "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "maxLength": 200}}


_NOT_MODIFIED = {"description": "The client's copy (If-None-Match) is current"}
_XML_FEED = {"description": "The whole feed, streamed", "content": {"application/xml": {"schema": {"type": "string"}}}}


def _widget_paths() -> dict[str, Any]:
    """The public widget answers that are data for machines: JSON-LD and Google's feeds (no key; open
    CORS; ETag and public caching)."""
    return {
        "/widgets/v1/{slug}/jsonld.json": {"get": {
            "summary": "schema.org JSON-LD for a product, or the shop",
            "description": "With `product`: the `Product` as its orders name it (name, image, address, SKU, GTIN, "
                           "MPN, brand), with `AggregateRating` and its latest `Review`s only when it has "
                           "published reviews; each review dated when it was written. A product the shop never "
                           "sold nor had reviewed is a 404. Without `product`: the shop's `Organization` (its "
                           "name and website) with no rating and no reviews, since Google treats a business's "
                           "stars for itself on its own site as self-serving. `<`, `>` and `&` are escaped, so "
                           "the answer can be pasted into a `<script type=application/ld+json>`.",
            "parameters": [_slug(), _product_query("The shop's product id")],
            "responses": {"200": {"description": "The JSON-LD document", "content": {
                "application/ld+json": {"schema": {"type": "object", "required": ["@context", "@type", "name"]}}}},
                "304": _NOT_MODIFIED, **_errors(404, 422, 503)}}},
        "/widgets/v1/{slug}/feed.xml": {"get": {
            "summary": "Google product review feed, schema 2.4",
            "description": "Every published product review of the shop, never capped (Google deletes what a feed "
                           "leaves out): verified purchase, incentive (never), when written, language, the "
                           "order's country, collection method and transaction id (verified reviews only), the "
                           "product's GTINs, MPNs, SKUs, brands, name and address from its orders. Streamed; "
                           "a 503 with Retry-After when this process is already streaming several feeds.",
            "parameters": [_slug()],
            "responses": {"200": _XML_FEED, "304": _NOT_MODIFIED, **_errors(404, 503)}}},
        "/widgets/v1/{slug}/merchant-feed.xml": {"get": {
            "summary": "Google merchant review feed (seller ratings), schema 5.0",
            "description": "The shop and every published review of the shop itself (not of a product), streamed. "
                           "The feed names the shop's website, so a shop that registered no website domain "
                           "(setting `domains`) has none: a 404.",
            "parameters": [_slug()],
            "responses": {"200": _XML_FEED, "304": _NOT_MODIFIED, **_errors(404, 503)}}},
    }


def _with_refusals(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation with a query parameter may answer 400 and every one with a path parameter 404:
    text no database can hold (a NUL, a lone surrogate) is refused before any route sees it."""
    refused = {
        "query": {"description": "A query parameter holds text that cannot be stored (a NUL, a lone surrogate)",
                  "content": {"application/json": {"schema": _ref("Error")}}},
        "path": {"description": "Not found (a path holding text that cannot be stored is never found)",
                 "content": {"application/json": {"schema": _ref("Error")}}},
    }
    for item in paths.values():
        for operation in item.values():
            where = {parameter.get("in") for parameter in operation.get("parameters", [])}
            for place, status in (("query", "400"), ("path", "404")):
                if place in where:
                    operation["responses"].setdefault(status, refused[place])
    return paths


@functools.lru_cache(maxsize=4)  # the same for every request; generating the models' schemas is not free
def document(base_url: str) -> dict[str, Any]:
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Attest", "version": __version__,
                 "description": "Verified reviews from real orders."},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "metricsToken": {"type": "http", "scheme": "bearer",
                                                 "description": "ATTEST_METRICS_TOKEN, not a merchant's key"}},
            "schemas": {**_answers(), **bodies.components(OrderEventBody, SettingsPatch), **schemas.openapi_schemas()},
        },
        # What Attest posts to a shop's own endpoints (outgoing webhooks, set up in the console).
        "webhooks": schemas.openapi_webhooks(),
        "paths": _with_refusals({
            "/api/v1/orders": {"post": {
                "summary": "Send an order event (idempotent per order and status)",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("OrderEventBody")}}},
                "responses": {**_ok(_ref("OrderAnswer"), "Recorded; a repeat returns the first answer", headers={
                    "Idempotent-Replayed": {"description": "true when this repeats an event already recorded",
                                            "schema": {"type": "string", "enum": ["true"]}}}),
                              **_errors(413, 422, *_KEYED)}}},
            "/api/v1/merchant": {"get": {"summary": "The merchant and its settings", "security": bearer,
                                         "responses": {**_ok(_ref("Merchant")), **_errors(*_KEYED)}}},
            "/api/v1/merchant/settings": {"patch": {
                "summary": "Change the shop's name, its registered website domains and its settings; nothing "
                           "changes unless every field is valid",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("SettingsPatch")}}},
                "responses": {**_ok(_ref("Merchant"), "The merchant as changed"),
                              **_errors(413, 422, *_KEYED)}}},
            "/api/v1/stats": {"get": {"summary": "The invitation funnel", "security": bearer,
                                      "responses": {**_ok(_ref("Stats")), **_errors(*_KEYED)}}},
            "/api/v1/privacy/exports": {"get": {
                "summary": "Buyers' data exports (from Shopify's customers/data_request or `attest privacy request`): "
                           "when each was asked for and whether it was delivered",
                "security": bearer,
                "responses": {**_ok(_ref("DataExports")), **_errors(*_KEYED)}}},
            "/api/v1/privacy/exports/{export_id}": {"get": {
                "summary": "Download one export as a JSON file to hand to the buyer; the first download marks it "
                           "delivered",
                "security": bearer,
                "parameters": [{"name": "export_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {**_ok({"type": "object"}, "The export (an attachment), or a note that the buyer was "
                                                        "erased since"), **_errors(404, *_KEYED)}}},
            "/widgets/v1/{slug}/summary.json": {"get": {
                "summary": "Rating summary of a shop's published reviews",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {**_ok(_ref("Summary")), **_errors(404, 503)}}},
            **_widget_paths(),
            "/widgets/v1/{slug}/topics.json": _topics_path(product_in_path=False),
            "/widgets/v1/{slug}/products/{product_id}/topics.json": _topics_path(product_in_path=True),
            **_embed_paths(),
            "/hooks/shopify/{slug}": _webhook(
                "Shopify webhook (orders/create, orders/fulfilled, orders/cancelled, refunds/create, "
                "customers/redact, customers/data_request, shop/redact)",
                "X-Shopify-Hmac-Sha256", "X-Shopify-Topic", delivery_id="X-Shopify-Webhook-Id", required=True),
            "/hooks/woocommerce/{slug}": _webhook(
                "WooCommerce webhook (order.created, order.updated) and its creation ping",
                "X-WC-Webhook-Signature", "X-WC-Webhook-Topic", required=False),
            "/metrics": {"get": {
                "summary": "Prometheus metrics, for a scraper holding ATTEST_METRICS_TOKEN",
                "security": [{"metricsToken": []}],
                "responses": {
                    "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "401": {"description": "No or another bearer token",
                            "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "404": {"description": "No ATTEST_METRICS_TOKEN is configured: metrics are not served",
                            "content": {"text/plain": {"schema": {"type": "string"}}}},
                }}},
            "/healthz": {"get": {"summary": "The database, and the worker where this process runs one",
                                 "responses": {**_ok(_ref("Health")), "503": {
                                     "description": "The database is unreachable or the worker stalled",
                                     "content": {"application/json": {"schema": _ref("Health")}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": _ok({"type": "object"})}},
        }),
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document(request.app.state.services.settings.base_url))
