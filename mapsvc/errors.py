"""One family of errors, each carrying its HTTP status and a machine-readable code."""

from __future__ import annotations

from typing import Any


class MapsvcError(Exception):
    """An error a person can act on; the web layer turns it into a response."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def to_json(self) -> dict[str, Any]:
        """Render the error as the API's JSON error body."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(MapsvcError):
    status = 400
    code = "bad_request"


class Unauthorized(MapsvcError):
    status = 401
    code = "login_required"


class Forbidden(MapsvcError):
    status = 403
    code = "forbidden"


class NotFound(MapsvcError):
    status = 404
    code = "not_found"


class Conflict(MapsvcError):
    status = 409
    code = "conflict"


class ValidationFailed(MapsvcError):
    status = 422
    code = "validation_failed"


class ConfigurationError(MapsvcError):
    """The service is set up wrongly (not the caller's fault)."""

    status = 500
    code = "configuration_error"
