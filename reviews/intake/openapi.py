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
from reviews.merchants.settings import DEFAULT_SETTINGS, HOST_PATTERN, MAX_DOMAINS, SettingsPatch
from reviews.platform import bodies
from reviews.platform.settings import SUPPORTED_LOCALES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_WHY = {
    400: "The body is not JSON, or not an object",
    401: "Missing or wrong API key (or webhook signature)",
    404: "Not found",
    413: "Body over 1 MB",
    422: "Invalid fields: `fields` names each, by its path (`customer.email`, `products.0.id`)",
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


# A query value without control characters (none reaches the database).
_PRINTABLE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            **({"description": description} if description else {})}


# Every /api/v1 route checks the key first, against the database.
_KEYED = (401, 429, 503)


def _count(name: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "description": name}


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
            **{key: {"description": "set, or null: secrets are never sent back"} for key in DEFAULT_SETTINGS},
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
                    "ordered", "scheduled", "sent", "failed", "cancelled", "too_old_to_invite",
                    "reminder_scheduled", "reminded", "reviewed")},
                "skipped": counts, "reminder_skipped": counts}}}},
        "Summary": {"type": "object", "required": ["average", "count", "distribution"], "properties": {
            "average": {"type": ["number", "null"]}, "count": {"type": "integer", "minimum": 0},
            "distribution": counts}},
        "PublicReview": {"type": "object", "required": [
            "id", "rating", "title", "body", "display_name", "product_id", "submitted_at", "verified",
            "collection_method", "reply"], "properties": {
                "id": {"type": "integer"}, "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                "title": {"type": "string"}, "body": {"type": "string"}, "display_name": {"type": "string"},
                "product_id": {"type": ["string", "null"], "description": "null: a review of the shop itself"},
                "product_name": {"type": ["string", "null"]},
                "submitted_at": {"type": "string", "format": "date-time",
                                 "description": "when its author wrote it (an import keeps its source's date)"},
                "published_at": nullable_time, "edited": {"type": "boolean"},
                "verified": {"type": "boolean", "description": "collected from an invitation after a real order"},
                "collection_method": {"type": "string", "enum": ["invited", "imported"]},
                "locale": {"type": ["string", "null"], "description": "the language it is written in"},
                "reply": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["body", "replied_at"],
                                                       "properties": {"body": {"type": "string"},
                                                                      "replied_at": nullable_time}}]}}},
        "ReviewsPage": {"type": "object", "required": ["reviews", "page", "per_page", "total", "pages"], "properties": {
            "reviews": {"type": "array", "items": _ref("PublicReview")},
            "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
            "total": _count("published reviews the filters select"), "pages": _count("pages of per_page")}},
        "DataExport": {"type": "object", "properties": {
            "id": {"type": "integer"}, "source": {"type": "string"}, "request_id": {"type": ["string", "null"]},
            "requested_at": {"type": "string", "format": "date-time"},
            "state": {"type": "string", "enum": ["waiting", "delivered", "erased"]},
            "delivered_at": nullable_time, "delivered_by": {"type": ["string", "null"]},
            "erased_at": nullable_time, "orders": {"type": "integer"}, "reviews": {"type": "integer"}}},
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
            "/widgets/v1/{slug}/reviews.json": {"get": {
                "summary": "A page of a shop's published reviews (of the shop and its products), with the filters, "
                           "sort and pooled languages of its public page",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 100_000}),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 50}, "default 10"),
                    _query("product", {"type": "string", "maxLength": 200, "pattern": _PRINTABLE},
                           "only this product's reviews"),
                    _query("lang", {"type": "string", "enum": list(SUPPORTED_LOCALES)},
                           "only the reviews written in this language (a tag such as de-AT counts as de)"),
                    _query("prefer_lang", {"type": "string", "enum": list(SUPPORTED_LOCALES)},
                           "every language, this one's reviews first (the visitor's own)"),
                    _query("sort", {"type": "string", "enum": ["newest", "highest", "lowest"]},
                           "newest (by the date written, the default), highest or lowest rating first"),
                    _query("stars", {"type": "integer", "minimum": 1, "maximum": 5}, "only this rating"),
                    _query("with_reply", {"type": "boolean"}, "only the reviews the shop answered")],
                "responses": {**_ok(_ref("ReviewsPage")), **_errors(404, 422, 503)}}},
            "/widgets/v1/{slug}/topics.json": _topics_path(product_in_path=False),
            "/widgets/v1/{slug}/products/{product_id}/topics.json": _topics_path(product_in_path=True),
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
