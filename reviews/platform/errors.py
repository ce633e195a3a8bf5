"""API errors: every failure a client sees is `{"error": {"code", "message", "fields"}}`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationError(ApiError):
    def __init__(self, fields: dict[str, str], message: str = "The request has invalid fields.") -> None:
        super().__init__(422, "invalid", message, fields)


class NotFound(ApiError):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(404, "not_found", message)


class Unauthorized(ApiError):
    def __init__(self, message: str = "A valid API key is required.") -> None:
        super().__init__(401, "unauthorized", message)
