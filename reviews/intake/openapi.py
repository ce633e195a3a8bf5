"""The OpenAPI document at /openapi.json, written by hand so it says exactly what the API does."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reviews import __version__
from reviews.intake.events import MAX_PRODUCTS, STATUSES

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    text = {401: "Missing or wrong API key", 413: "Body over 1 MB", 422: "Invalid fields", 404: "Not found"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}} for c in codes}


def document(base_url: str) -> dict[str, Any]:
    summary = {"type": "object", "properties": {
        "average": {"type": ["number", "null"]}, "count": {"type": "integer"},
        "distribution": {"type": "object", "additionalProperties": {"type": "integer"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Attest", "version": __version__,
                 "description": "Verified reviews from real orders."},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message", "fields"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
                "OrderEvent": {"type": "object", "required": ["order_id", "status", "occurred_at"], "properties": {
                    "order_id": {"type": "string", "maxLength": 200},
                    "status": {"type": "string", "enum": list(STATUSES)},
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "customer": {"type": "object", "properties": {
                        "email": {"type": "string", "format": "email"}, "name": {"type": "string"},
                        "locale": {"type": "string"}, "timezone": {"type": "string"}}},
                    "consent": {"type": "boolean"},
                    "products": {"type": "array", "maxItems": MAX_PRODUCTS, "items": {
                        "type": "object", "required": ["id", "name"], "properties": {
                            "id": {"type": "string"}, "name": {"type": "string"},
                            "url": {"type": "string", "format": "uri"},
                            "image_url": {"type": "string", "format": "uri"}, "gtin": {"type": "string"}}}}}},
                "Summary": summary,
                "DataExports": {"type": "object", "properties": {"exports": {"type": "array", "items": {
                    "type": "object", "properties": {
                        "id": {"type": "integer"}, "source": {"type": "string"},
                        "request_id": {"type": ["string", "null"]},
                        "requested_at": {"type": "string", "format": "date-time"},
                        "state": {"type": "string", "enum": ["waiting", "delivered", "erased"]},
                        "delivered_at": {"type": ["string", "null"], "format": "date-time"},
                        "delivered_by": {"type": ["string", "null"]},
                        "erased_at": {"type": ["string", "null"], "format": "date-time"},
                        "orders": {"type": "integer"}, "reviews": {"type": "integer"}}}}}},
            },
        },
        "paths": {
            "/api/v1/orders": {"post": {
                "summary": "Send an order event (idempotent per order and status)",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/OrderEvent"}}}},
                "responses": {"200": {"description": "Recorded; a repeat returns the first answer"},
                              **_errors(401, 413, 422)}}},
            "/api/v1/merchant": {"get": {"summary": "The merchant and its settings",
                                         "security": [{"bearer": []}],
                                         "responses": {"200": {"description": "OK"}, **_errors(401)}}},
            "/api/v1/merchant/settings": {"patch": {
                "summary": "Change settings", "security": [{"bearer": []}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "OK"}, **_errors(401, 422)}}},
            "/api/v1/stats": {"get": {"summary": "The invitation funnel", "security": [{"bearer": []}],
                                      "responses": {"200": {"description": "OK"}, **_errors(401)}}},
            "/api/v1/privacy/exports": {"get": {
                "summary": "Buyers' data exports (from Shopify's customers/data_request or `attest privacy request`): "
                           "when each was asked for and whether it was delivered",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/DataExports"}}}}, **_errors(401)}}},
            "/api/v1/privacy/exports/{export_id}": {"get": {
                "summary": "Download one export as a JSON file to hand to the buyer; the first download marks it "
                           "delivered",
                "security": [{"bearer": []}],
                "parameters": [{"name": "export_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "The export (an attachment), or a note that the buyer was "
                                                     "erased since"}, **_errors(401, 404)}}},
            "/widgets/v1/{slug}/summary.json": {"get": {
                "summary": "Rating summary of a shop's published reviews",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Summary"}}}}, **_errors(404)}}},
            "/hooks/shopify/{slug}": {"post": {
                "summary": "Shopify webhook (orders/create, orders/fulfilled, orders/cancelled, refunds/create, "
                           "customers/redact, customers/data_request, shop/redact)",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "X-Shopify-Hmac-Sha256", "in": "header", "required": True, "schema": {"type": "string"},
                     "description": "base64 HMAC-SHA256 of the raw body with the merchant's shopify_secret"},
                    {"name": "X-Shopify-Topic", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "X-Shopify-Webhook-Id", "in": "header", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Processed, ignored or already seen"},
                              "400": {"description": "Not JSON"}, **_errors(401, 404, 413, 422)}}},
            "/hooks/woocommerce/{slug}": {"post": {
                "summary": "WooCommerce webhook (order.created, order.updated) and its creation ping",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "X-WC-Webhook-Signature", "in": "header", "schema": {"type": "string"},
                     "description": "base64 HMAC-SHA256 of the raw body with the merchant's woocommerce_secret"},
                    {"name": "X-WC-Webhook-Topic", "in": "header", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Processed, ignored or already seen"},
                              "400": {"description": "Not JSON"}, **_errors(401, 404, 413, 422)}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "OK"}}}},
            "/healthz": {"get": {"summary": "Database reachable", "responses": {
                "200": {"description": "OK"}, "503": {"description": "Database unreachable"}}}},
        },
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document(request.app.state.services.settings.base_url))
