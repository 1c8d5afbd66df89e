"""JSON shapes of webhook endpoints and their deliveries (SPEC §6.6, §7), camelCase on the wire.

Input schemas check types and sizes, so the OpenAPI document states them; what a URL may point
at, which event types exist and an empty event list are checkie.webhooks.services' rules, whose
errors name the same fields. An endpoint's secret is only in the create and rotate answers."""
from __future__ import annotations

from datetime import UTC

from marshmallow import fields, validate

from checkie.api.coupon_schemas import UtcDateTime
from checkie.api.schemas import CamelSchema, PageArgsSchema, StrictBoolean, list_schema
from checkie.webhooks.models import DeliveryStatus
from checkie.webhooks.services import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH, SUBSCRIBABLE_EVENTS

_SECRET = "`whsec_…`: verifies the signatures. Shown in this answer only; store it now."
_EVENTS = "Event types to receive: " + ", ".join(f"`{kind}`" for kind in SUBSCRIBABLE_EVENTS) + "."


class WebhookEndpointSchema(CamelSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True, metadata={"description": _EVENTS})
    description = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(
        allow_none=True,
        metadata={"description": "Why Checkie disabled it (a 410, or 24 hours of failures); absent when enabled."},
    )
    created_at = fields.DateTime(required=True)


class WebhookEndpointCreatedSchema(WebhookEndpointSchema):
    secret = fields.String(required=True, metadata={"description": _SECRET})


class WebhookSecretSchema(CamelSchema):
    secret = fields.String(
        required=True,
        metadata={"description": _SECRET + " The previous secret keeps signing, as a second signature, for 24 hours."},
    )


class WebhookEndpointUpdateSchema(CamelSchema):
    """Every field optional: what is sent changes."""

    url = fields.String(
        validate=validate.Length(min=1, max=MAX_URL_LENGTH),
        metadata={"description": "http(s), reaching a public address."},
    )
    events = fields.List(
        fields.String(validate=validate.Length(max=100)), validate=validate.Length(min=1, max=len(SUBSCRIBABLE_EVENTS) * 4),
        metadata={"description": _EVENTS},
    )
    description = fields.String(validate=validate.Length(max=MAX_DESCRIPTION_LENGTH))
    enabled = StrictBoolean(metadata={"description": "false stops deliveries; true resumes them (with a fresh 24 hours)."})


class WebhookEndpointCreateSchema(CamelSchema):
    url = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_URL_LENGTH),
        metadata={"description": "http(s), reaching a public address."},
    )
    events = fields.List(
        fields.String(validate=validate.Length(max=100)), required=True,
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE_EVENTS) * 4),
        metadata={"description": _EVENTS},
    )
    description = fields.String(validate=validate.Length(max=MAX_DESCRIPTION_LENGTH))


class WebhookDeliverySchema(CamelSchema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "`evt_…`, also the `webhook-id` header of every attempt."})
    event_type = fields.String(required=True, attribute="event.type")
    status = fields.Enum(DeliveryStatus, by_value=True, required=True)
    attempts = fields.Integer(required=True, metadata={"description": "Attempts in the current round (six at most)."})
    last_status_code = fields.Integer(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    next_attempt_at = fields.DateTime(required=True, allow_none=True, metadata={"description": "While pending."})
    created_at = fields.DateTime(required=True)


class WebhookAttemptSchema(CamelSchema):
    at = fields.DateTime(required=True)
    status_code = fields.Integer(required=True, allow_none=True, metadata={"description": "null: no answer came."})
    duration_ms = fields.Integer(required=True)
    response_excerpt = fields.String(required=True, metadata={"description": "The start of the answer, at most 1 KB."})
    error = fields.String(required=True, allow_none=True)


class WebhookDeliveryDetailSchema(WebhookDeliverySchema):
    attempt_log = fields.List(
        fields.Nested(WebhookAttemptSchema), required=True,
        metadata={"description": "Every attempt, oldest first, earlier rounds (resends, replays) included."},
    )


class WebhookDeliveryListArgsSchema(PageArgsSchema):
    status = fields.Enum(
        DeliveryStatus, by_value=True, load_default=None, metadata={"description": "Only deliveries in this status."}
    )


class WebhookReplaySchema(CamelSchema):
    since = UtcDateTime(
        required=True, default_timezone=UTC,
        metadata={"description": "Failed deliveries created at or after this time are sent again; UTC when no offset is given."},
    )


class WebhookReplayedSchema(CamelSchema):
    replayed = fields.Integer(required=True, metadata={"description": "How many failed deliveries were sent again."})


WebhookEndpointListSchema = list_schema(WebhookEndpointSchema, "WebhookEndpointList")
WebhookDeliveryListSchema = list_schema(WebhookDeliverySchema, "WebhookDeliveryList")


def endpoint_view(endpoint, *, secret: str | None = None) -> dict:
    """An endpoint as the API shows it: `disabledReason` only while disabled, `secret` only when
    given (the create and rotate answers)."""
    view = {name: getattr(endpoint, name) for name in ("id", "url", "events", "description", "enabled", "created_at")}
    if not endpoint.enabled:
        view["disabled_reason"] = endpoint.disabled_reason
    if secret is not None:
        view["secret"] = secret
    return view


def delivery_view(delivery) -> dict:
    """A delivery as the API shows it: `nextAttemptAt` only means something while it is pending."""
    view = {name: getattr(delivery, name) for name in (
        "id", "event_id", "event", "status", "attempts", "last_status_code", "last_error", "created_at",
    )}
    pending = delivery.status is DeliveryStatus.PENDING
    return {**view, "next_attempt_at": delivery.next_attempt_at if pending else None}


def delivery_detail(delivery, attempts: list) -> dict:
    """A delivery with its attempt log (oldest first)."""
    return {**delivery_view(delivery), "attempt_log": attempts}
