"""JSON shapes of the customer portal's API (SPEC §6.4), camelCase on the wire, minor units.

A customer sees less of a payment than the merchant does (no fee, net or review flags): what
they paid, for what, and what came back."""
from __future__ import annotations

from marshmallow import fields, validate

from checkie.api.payment_schemas import LineItemSchema
from checkie.api.schemas import CamelSchema, list_schema
from checkie.api.subscription_schemas import SubscriptionSchema
from checkie.payments.models import PaymentStatus
from checkie.subscriptions.actions import Action
from checkie.subscriptions.models import CHOOSABLE_REASONS

#: The actions a portal customer may be offered (cancelling now is the merchant's alone).
PORTAL_ACTIONS = (Action.CANCEL_AT_PERIOD_END, Action.UNCANCEL, Action.PAUSE, Action.RESUME)


class RequestAccessSchema(CamelSchema):
    email = fields.String(required=True, validate=validate.Length(max=254),
                          metadata={"description": "The address the customer paid with."})
    store_slug = fields.String(required=True, validate=validate.Length(max=100),
                               metadata={"description": "The store's slug, as in `/portal/<storeSlug>/`."})


class PortalCustomerSchema(CamelSchema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class PortalStoreSchema(CamelSchema):
    name = fields.String(required=True)
    slug = fields.String(required=True)


class PortalSignInSchema(CamelSchema):
    token = fields.String(required=True, metadata={
        "description": "The portal bearer token (`Authorization: Bearer …` on the portal's endpoints), valid 24 hours."})
    expires_at = fields.DateTime(required=True)
    customer = fields.Nested(PortalCustomerSchema, required=True)
    store = fields.Nested(PortalStoreSchema, required=True)


class PurchaseSchema(CamelSchema):
    """One of the customer's payments, as the customer may see it."""

    id = fields.Integer(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Minor units."})
    currency = fields.String(required=True)
    status = fields.Enum(PaymentStatus, by_value=True, required=True)
    amount_refunded = fields.Integer(required=True, metadata={"description": "Minor units."})
    created_at = fields.DateTime(required=True)
    page_title = fields.String(required=True, allow_none=True, metadata={"description": "The page's title when it was paid."})
    line_items = fields.List(fields.Nested(LineItemSchema), required=True)


PurchaseListSchema = list_schema(PurchaseSchema, "PortalPurchaseList")


class PortalSubscriptionSchema(SubscriptionSchema):
    allowed_actions = fields.List(
        fields.String(validate=validate.OneOf([action.value for action in PORTAL_ACTIONS])), required=True,
        metadata={"description": "What the customer may do now, as the subscription's status and the store's "
                                 "settings allow: `cancel_at_period_end` (…/cancel), `uncancel` and `resume` "
                                 "(…/resume), `pause` (…/pause)."},
    )


PortalSubscriptionListSchema = list_schema(PortalSubscriptionSchema, "PortalSubscriptionList")


class PortalCancelBodySchema(CamelSchema):
    reason = fields.String(load_default=None, validate=validate.OneOf([reason.value for reason in CHOOSABLE_REASONS]),
                           metadata={"description": "Default requested_by_customer."})
