"""The outgoing webhooks in the OpenAPI document (`reviews.intake.openapi`): each event's message
and the POST Attest makes to an endpoint, as OpenAPI 3.1 describes webhooks."""

from __future__ import annotations

from typing import Any

from reviews.hooks.events import (
    EVENT_TYPES,
    REVIEW_PUBLISHED,
    REVIEW_REPLIED,
    REVIEW_UPDATED,
    REVIEW_WITHDRAWN,
    TEST_EVENT,
)

_SUMMARIES = {
    REVIEW_PUBLISHED: "A review is now public (after its check, a moderator's decision, or again after an edit "
                      "or a hold); keep the latest by `data.id`",
    REVIEW_UPDATED: "A public review changed: its author edited it (`state` pending until checked again, then "
                    "review.published follows), or moderation held or rejected it",
    REVIEW_WITHDRAWN: "Its author withdrew the review, or the buyer's data was erased (text and name empty)",
    REVIEW_REPLIED: "The shop replied publicly to the review (`data.reply`)",
    TEST_EVENT: "Sent by the console's \"send a test event\" button, whatever the endpoint subscribed to",
}


def openapi_schemas() -> dict[str, Any]:
    time = {"type": "string", "format": "date-time"}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    text = {"type": "string"}
    return {
        "ReviewEventData": {
            "type": "object",
            "description": "The review as the widgets show it. Never the buyer's email address or network data.",
            "required": ["id", "merchant", "rating", "title", "body", "display_name", "state", "verified",
                         "submitted_at", "published_at", "reply", "photos"],
            "properties": {
                "id": {"type": "integer"}, "merchant": {"type": "string", "description": "the shop's slug"},
                "product_id": {"type": ["string", "null"], "description": "null: a review of the shop"},
                "product_name": {"type": ["string", "null"]},
                "rating": {"type": "integer", "minimum": 1, "maximum": 5}, "title": text, "body": text,
                "display_name": text, "language": {"type": ["string", "null"]},
                "state": {"type": "string", "enum": ["pending", "held", "published", "rejected", "withdrawn"]},
                "verified": {"type": "boolean", "description": "written from an invitation after a real order"},
                "source": {"type": "string", "description": "invited, or imported"},
                "submitted_at": time, "published_at": nullable_time, "edited_at": nullable_time,
                "reply": {"anyOf": [{"type": "null"}, {
                    "type": "object", "required": ["body"], "description": "the shop's public reply",
                    "properties": {"body": text, "created_at": nullable_time, "updated_at": nullable_time}}]},
                "photos": {"type": "array", "description": "The photos shoppers see, in the author's order: approved "
                           "by a moderator, in a published review (none otherwise)", "items": {
                               "type": "object", "required": ["url", "thumb_url", "width", "height", "alt"],
                               "properties": {
                                   "url": {"type": "string", "format": "uri",
                                           "description": "the photo (WebP, at most 1600 px), cached for a year"},
                                   "thumb_url": {"type": "string", "format": "uri",
                                                 "description": "its 400 px thumbnail (WebP)"},
                                   "width": {"type": "integer"}, "height": {"type": "integer"},
                                   "alt": {"type": "string", "description": "the author's caption, or whose "
                                                                           "photo of what it is"}}}}}},
        "TestEventData": {"type": "object", "required": ["merchant", "endpoint_id", "message"], "properties": {
            "merchant": text, "endpoint_id": {"type": "integer"}, "message": text}},
        **{_schema_name(kind): {
            "type": "object", "required": ["type", "timestamp", "data"], "properties": {
                "type": {"type": "string", "const": kind}, "timestamp": time,
                "data": {"$ref": "#/components/schemas/" + ("TestEventData" if kind == TEST_EVENT
                                                           else "ReviewEventData")}}}
           for kind in (*EVENT_TYPES, TEST_EVENT)},
    }


def _schema_name(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split(".")) + "Event"


def openapi_webhooks() -> dict[str, Any]:
    """Each event as OpenAPI 3.1 describes webhooks: the POST Attest makes to an endpoint."""
    headers = [
        {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "The message's id, the same on every attempt: receive each once"},
        {"name": "webhook-timestamp", "in": "header", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9]+$"}, "description": "Seconds since 1970 of this attempt"},
        {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "Space-separated `v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>` with the endpoint's "
                        "secret (both the new and the previous one for 24 hours after a rotation)"},
    ]
    return {kind: {"post": {
        "summary": _SUMMARIES[kind],
        "description": "Signed as Standard Webhooks ask (https://www.standardwebhooks.com). Any 2xx answer is "
                       "delivered; anything else is tried again after 1 and 5 minutes, then 30 minutes, 2, 3, 6 "
                       "and 12 hours. Redirects are not followed.",
        "parameters": headers,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/" + _schema_name(kind)}}}},
        "responses": {"2XX": {"description": "Received"},
                      "default": {"description": "Not received: tried again later"}}}}
        for kind in (*EVENT_TYPES, TEST_EVENT)}
