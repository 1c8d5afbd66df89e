"""Typed errors that services raise and the web layer maps to HTML or `{"error":{…}}`."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input broke a rule; `fields` maps the names of the service's arguments (`trial_days`,
    `custom_fields.<key>`) to messages. Forms name their fields alike; the JSON API answers the
    names in camelCase (`checkie.api.schemas.json_field_name`)."""

    status = 422
    code = "validation_error"
    #: Why, as one word for JSON clients: a refused coupon's reason ("expired", …), else None.
    reason: str | None = None

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, fields={field: [message]})


class AuthenticationFailed(DomainError):
    status = 401
    code = "unauthorized"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
