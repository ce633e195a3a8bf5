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
from reviews.intake.events import STATUSES, OrderEventBody
from reviews.merchants import hooks
from reviews.merchants.settings import DEFAULT_SETTINGS, SettingsPatch
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
        "Settings": {"type": "object", "required": list(DEFAULT_SETTINGS), "properties": {
            key: {"description": "set, or null: secrets are never sent back"} for key in DEFAULT_SETTINGS}},
        "Merchant": {"type": "object", "required": ["slug", "name", "locale", "settings"], "properties": {
            "slug": {"type": "string"}, "name": {"type": "string"}, "locale": {"type": "string"},
            "settings": _ref("Settings")}},
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
        **_widget_answers(),
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
    }


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
        "language", "verified", "method", "reply"], "properties": {
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
        "locale": {"type": ["string", "null"]}}}
    shop_properties: dict[str, Any] = {
        "name": {"type": "string"},
        "accent": {"type": "string", "pattern": "^#[0-9a-fA-F]{3,6}$", "description": "The shop's accent colour"}}
    shop = {"type": "object", "required": ["name", "accent"], "properties": shop_properties}
    return {
        "WidgetReview": review,
        "WidgetShop": shop,
        "ReviewsPage": {"type": "object", "required": ["reviews", "page", "per_page", "total", "pages", "summary",
                                                       "shop"], "properties": {
            "reviews": {"type": "array", "items": _ref("WidgetReview")},
            "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0, "description": "How many reviews the filters select"},
            "pages": {"type": "integer", "minimum": 0},
            "summary": {**_ref("Summary"), "description": "Of the shop's (or product's) published reviews, "
                                                          "unfiltered: the histogram"},
            "shop": _ref("WidgetShop")}},
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


def _widget_paths() -> dict[str, Any]:
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


@functools.lru_cache(maxsize=4)  # the same for every request; generating the models' schemas is not free
def document(base_url: str) -> dict[str, Any]:
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Attest", "version": __version__,
                 "description": "Verified reviews from real orders."},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_answers(), **bodies.components(OrderEventBody, SettingsPatch), **hooks.openapi_schemas()},
        },
        # What Attest posts to a shop's own endpoints (outgoing webhooks, set up in the console).
        "webhooks": hooks.openapi_webhooks(),
        "paths": {
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
                "summary": "Change settings", "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("SettingsPatch")}}},
                "responses": {**_ok({"type": "object", "required": ["settings"],
                                     "properties": {"settings": _ref("Settings")}}),
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
            "/hooks/shopify/{slug}": _webhook(
                "Shopify webhook (orders/create, orders/fulfilled, orders/cancelled, refunds/create, "
                "customers/redact, customers/data_request, shop/redact)",
                "X-Shopify-Hmac-Sha256", "X-Shopify-Topic", delivery_id="X-Shopify-Webhook-Id", required=True),
            "/hooks/woocommerce/{slug}": _webhook(
                "WooCommerce webhook (order.created, order.updated) and its creation ping",
                "X-WC-Webhook-Signature", "X-WC-Webhook-Topic", required=False),
            "/metrics": {"get": {"summary": "Prometheus metrics, for a scraper with ATTEST_METRICS_TOKEN",
                                 "responses": {"200": {"description": "OK", "content": {
                                     "text/plain": {"schema": {"type": "string"}}}},
                                     "401": {"description": "Without the metrics token", "content": {
                                         "text/plain": {"schema": {"type": "string"}}}},
                                     "404": {"description": "No metrics token is configured", "content": {
                                         "text/plain": {"schema": {"type": "string"}}}}}}},
            "/healthz": {"get": {"summary": "The database, and the worker where this process runs one",
                                 "responses": {**_ok(_ref("Health")), "503": {
                                     "description": "The database is unreachable or the worker stalled",
                                     "content": {"application/json": {"schema": _ref("Health")}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": _ok({"type": "object"})}},
        },
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document(request.app.state.services.settings.base_url))
