"""The widget API's JSON shapes (SPEC §6.2) for the OpenAPI document.

The views build their answers with `widget_responses` and read their bodies by hand (`widget_requests`) (an empty
body is an empty object; a blank `sessionId` is "required"), so these schemas describe rather
than parse; the contract test (tests/api/test_openapi_contract.py) holds the two together.
"""
from __future__ import annotations

from marshmallow import fields, validate

from checkie.api.schemas import CamelSchema
from checkie.catalog.coupons import CouponReason
from checkie.checkout.models import CheckoutState
from checkie.providers.test import TEST_CARDS

_ID = "The checkout session's id: the shopper's only credential, so keep it out of URLs others see."
_STATES = [state.value for state in CheckoutState]


def _status(**kwargs) -> fields.String:
    return fields.String(metadata={"enum": _STATES, "description": "The session's state."}, **kwargs)


# ---------- answers ----------

class WidgetAmountSchema(CamelSchema):
    subtotal = fields.Integer(required=True, metadata={"description": "Minor units, before the discount."})
    discount = fields.Integer(required=True)
    total = fields.Integer(required=True)
    currency = fields.String(required=True)


class WidgetSessionAmountSchema(WidgetAmountSchema):
    due_now = fields.Integer(required=True, metadata={
        "description": "Minor units charged at checkout: the total, or 0 while a subscription's free trial runs."})


class WidgetStoreSchema(CamelSchema):
    name = fields.String(required=True)
    slug = fields.String(required=True)


class WidgetPricingSchema(CamelSchema):
    type = fields.String(required=True, metadata={"description": "`one_time` or `subscription`."})
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    interval = fields.String(required=True, allow_none=True)
    interval_count = fields.Integer(required=True, allow_none=True)
    trial_days = fields.Integer(required=True, allow_none=True)


class WidgetOptionSchema(CamelSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    price_delta = fields.Integer(required=True)


class WidgetVariantSchema(CamelSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    options = fields.List(fields.Nested(WidgetOptionSchema), required=True)


class WidgetCustomFieldSchema(CamelSchema):
    id = fields.Integer(required=True)
    key = fields.String(required=True, metadata={"description": "The key answers are sent under."})
    label = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    options = fields.List(fields.String(), required=True, allow_none=True)


class WidgetPageSchema(CamelSchema):
    """What a shopper needs to render the checkout: never the page's draft state or stats."""

    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    pricing = fields.Nested(WidgetPricingSchema, required=True)
    variants = fields.List(fields.Nested(WidgetVariantSchema), required=True)
    custom_fields = fields.List(fields.Nested(WidgetCustomFieldSchema), required=True)
    allow_coupons = fields.Boolean(required=True)


class OpenedCheckoutSchema(CamelSchema):
    session_id = fields.String(required=True, metadata={"description": _ID})
    expires_at = fields.DateTime(required=True, allow_none=True)
    store = fields.Nested(WidgetStoreSchema, required=True)
    page = fields.Nested(WidgetPageSchema, required=True)
    amount = fields.Nested(WidgetSessionAmountSchema, required=True)


class WidgetCouponSchema(CamelSchema):
    code = fields.String(required=True)
    percent_off = fields.Integer(required=True, allow_none=True)
    amount_off = fields.Integer(required=True, allow_none=True)
    currency = fields.String(required=True, allow_none=True)


class WidgetSessionSchema(CamelSchema):
    session_id = fields.String(required=True)
    status = _status(required=True)
    email = fields.String(required=True, allow_none=True)
    amount = fields.Nested(WidgetSessionAmountSchema, required=True)
    custom_fields = fields.Dict(keys=fields.String(), required=True, metadata={"description": "Answers by field key."})
    variant_options = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True,
        metadata={"description": "The chosen option id by variant id."},
    )
    coupon = fields.Nested(WidgetCouponSchema, required=True, allow_none=True)
    subscription_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The subscription a completed checkout of a subscription page started; null otherwise."})


class CouponCheckSchema(CamelSchema):
    valid = fields.Boolean(required=True)
    reason = fields.String(
        metadata={"enum": [reason.value for reason in CouponReason], "description": "Why not (when `valid` is false)."}
    )
    coupon = fields.Nested(WidgetCouponSchema, metadata={"description": "When `valid` is true."})
    amount = fields.Nested(WidgetAmountSchema, metadata={"description": "The amounts with the coupon applied."})


class NextActionSchema(CamelSchema):
    type = fields.String(required=True, metadata={"enum": ["redirect_to_url"]})
    url = fields.String(required=True, metadata={"description": "Send the shopper here to authenticate (3DS)."})


class PaymentRefusalSchema(CamelSchema):
    code = fields.String(required=True, metadata={"description": "The provider's reason, e.g. `card_declined`."})
    message = fields.String(required=True)


class PaymentAnswerSchema(CamelSchema):
    session_id = fields.String(required=True)
    status = _status(required=True)
    client_secret = fields.String(metadata={"description": "For Stripe.js (Stripe only)."})
    next_action = fields.Nested(NextActionSchema)
    error = fields.Nested(
        PaymentRefusalSchema,
        metadata={"description": "The card was refused: the session is open again (expired after the third refusal)."},
    )


class CheckoutStatusSchema(CamelSchema):
    session_id = fields.String(required=True)
    status = _status(required=True)
    attempts = fields.Integer(required=True, metadata={"description": "Payment attempts so far."})
    payment_id = fields.Integer(metadata={
        "description": "Once `completed` (not after a free trial's checkout: nothing was paid)."})
    subscription_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The subscription a completed checkout of a subscription page started; null otherwise."})
    next_action = fields.Nested(NextActionSchema, metadata={"description": "While `awaiting_action`."})


class AbandonedSchema(CamelSchema):
    session_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["abandoned"]})


class PublicEmbedSchema(CamelSchema):
    embed_id = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "`inline`, `button` or `overlay`."})
    iframe_url = fields.String(required=True)
    page = fields.Nested(WidgetPageSchema, required=True)
    settings = fields.Dict(keys=fields.String(), required=True)


# ---------- bodies ----------

class UpdateCheckoutBodySchema(CamelSchema):
    """Every key is optional; a key that is absent leaves that part of the session alone."""

    email = fields.String(allow_none=True, metadata={"description": "Blank or null clears it."})
    name = fields.String(allow_none=True)
    variant_options = fields.Dict(
        keys=fields.String(), metadata={"description": "An option id (integer) for every variant id of the page."}
    )
    custom_fields = fields.Dict(
        keys=fields.String(), metadata={"description": "Answers by field key, merged into the stored ones."}
    )
    coupon_code = fields.String(allow_none=True, metadata={"description": "Blank or null removes the coupon."})


class CouponCheckBodySchema(CamelSchema):
    session_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    code = fields.String(required=True, validate=validate.Length(min=1, max=100))


class PaymentBodySchema(CamelSchema):
    session_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    payment_method = fields.String(
        allow_none=True,
        metadata={"enum": sorted(set(TEST_CARDS.values())),
                  "description": "One of the test methods with the test provider; omitted with Stripe."},
    )
