"""JSON shapes for the merchant's view of checkout sessions (camelCase, minor units)."""
from __future__ import annotations

from marshmallow import fields, validate

from checkie.api.payment_schemas import CustomFieldAnswerSchema, LineItemSchema
from checkie.api.schemas import CamelSchema, list_schema
from checkie.checkout.models import CheckoutState
from checkie.payments.models import AttemptStatus


class SessionAmountSchema(CamelSchema):
    subtotal = fields.Integer(required=True)
    discount = fields.Integer(required=True)
    total = fields.Integer(required=True)
    currency = fields.String(required=True)
    due_now = fields.Integer(required=True, metadata={
        "description": "Minor units charged at checkout: the total, or 0 while a subscription's free trial runs."})


class TransitionSchema(CamelSchema):
    from_state = fields.Enum(CheckoutState, by_value=True, required=True, data_key="from")
    event = fields.String(required=True)
    to_state = fields.Enum(CheckoutState, by_value=True, required=True, data_key="to")
    at = fields.DateTime(required=True)


class AttemptSchema(CamelSchema):
    number = fields.Integer(required=True)
    status = fields.Enum(AttemptStatus, by_value=True, required=True)
    provider_intent_id = fields.String(required=True, allow_none=True)
    failure_code = fields.String(required=True, allow_none=True)


class CheckoutSessionSchema(CamelSchema):
    id = fields.String(required=True)
    state = fields.Enum(CheckoutState, by_value=True, required=True)
    page_id = fields.Integer(required=True)
    email = fields.String(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)
    amount = fields.Nested(SessionAmountSchema, required=True)
    attempt_count = fields.Integer(required=True, metadata={"description": "How many payment attempts were made (at most 3)."})
    expires_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)


class CheckoutSessionDetailSchema(CheckoutSessionSchema):
    subscription_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The subscription a completed checkout of a subscription page started; null otherwise."})
    transitions = fields.List(fields.Nested(TransitionSchema), required=True)
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)
    line_items = fields.List(fields.Nested(LineItemSchema), required=True, metadata={
        "description": "The chosen variant options: as frozen on the payment once paid, else the current selection.",
    })
    custom_fields = fields.List(fields.Nested(CustomFieldAnswerSchema), required=True, metadata={
        "description": "The answers under their fields' labels: as frozen on the payment once paid, else as now.",
    })
    coupon_code = fields.String(required=True, allow_none=True)


CheckoutSessionListSchema = list_schema(CheckoutSessionSchema, "CheckoutSessionList")


class SessionListArgsSchema(CamelSchema):
    """`cursor` is the previous page's `nextCursor` (opaque)."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=[validate.Length(max=200), validate.Regexp(r"^[A-Za-z0-9_-]*$")])
    state = fields.Enum(CheckoutState, by_value=True)


def checkout_view(checkout, *, attempts: list | None = None, line: dict | None = None,
                  subscription_id: int | None = None) -> dict:
    """The merchant's view of a session; with `attempts` and its `line` (checkout.lines), the
    detail (transitions, attempts, line items and answers, and the subscription it started)."""
    view = {
        "id": checkout.id, "state": checkout.state, "page_id": checkout.page_id, "email": checkout.email,
        "name": checkout.name, "attempt_count": checkout.attempt_count, "expires_at": checkout.expires_at,
        "created_at": checkout.created_at, "completed_at": checkout.completed_at,
        "amount": {"subtotal": checkout.subtotal, "discount": checkout.discount, "total": checkout.total,
                   "currency": checkout.currency, "due_now": checkout.due_now},
    }
    if attempts is not None:
        view["transitions"] = list(checkout.transitions)
        view["attempts"] = attempts
        view["line_items"] = (line or {}).get("items", [])
        view["custom_fields"] = (line or {}).get("answers", [])
        view["coupon_code"] = ((line or {}).get("coupon") or {}).get("code")
        view["subscription_id"] = subscription_id
    return view
