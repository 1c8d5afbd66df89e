"""JSON shapes for subscriptions and the test clock (SPEC §6.6; minor units, the store's clock)."""
from __future__ import annotations

from marshmallow import fields, post_dump, validate

from checkie.api.payment_schemas import PaymentSchema
from checkie.api.schemas import CamelSchema, PageArgsSchema, StrictBoolean, list_schema
from checkie.catalog.models import Interval
from checkie.subscriptions.models import CHOOSABLE_REASONS, CancellationReason, SubscriptionStatus

#: How far one request may move a test clock: two years of renewals and retries at most.
MAX_ADVANCE_DAYS = 730
#: Members that only appear on the subscriptions they describe (SPEC §6.6's `?`).
_WHEN_SET = ("trialEnd", "canceledAt", "cancellationReason", "pausedAt")


class SubscriptionSchema(CamelSchema):
    id = fields.Integer(required=True)
    status = fields.Enum(SubscriptionStatus, by_value=True, required=True)
    customer_id = fields.Integer(required=True)
    page_id = fields.Integer(required=True, allow_none=True, metadata={"description": "Null once the page was deleted."})
    amount = fields.Integer(required=True, metadata={"description": "Minor units per period, before any discount."})
    currency = fields.String(required=True)
    interval = fields.Enum(Interval, by_value=True, required=True)
    interval_count = fields.Integer(required=True, metadata={"description": "Billed every `intervalCount` × `interval`."})
    current_period_start = fields.DateTime(required=True)
    current_period_end = fields.DateTime(required=True, metadata={
        "description": "When the next renewal is charged (the trial's end while `trialing`)."})
    trial_end = fields.DateTime(metadata={"description": "Only on a subscription that started with a trial."})
    cancel_at_period_end = fields.Boolean(required=True, metadata={
        "description": "It ends at `currentPeriodEnd` instead of renewing (`…/resume` takes that back)."})
    canceled_at = fields.DateTime(metadata={"description": "Only on a canceled subscription."})
    cancellation_reason = fields.Enum(CancellationReason, by_value=True, metadata={
        "description": "Only on a canceled subscription, or one set to cancel at its period's end."})
    paused_at = fields.DateTime(metadata={"description": "Only on a paused subscription."})
    created_at = fields.DateTime(required=True, attribute="started_at", metadata={
        "description": "When it started, on the store's clock (a test clock may run ahead)."})

    @post_dump
    def _only_when_set(self, data: dict, **_) -> dict:
        """Optional members appear only on the subscriptions they describe, as on payouts."""
        return {key: value for key, value in data.items() if value is not None or key not in _WHEN_SET}


class SubscriptionDetailSchema(SubscriptionSchema):
    payments = fields.List(fields.Nested(PaymentSchema), required=True, metadata={
        "description": "Its payments, newest first, as `GET …/payments/<id>` shows them."})


SubscriptionListSchema = list_schema(SubscriptionSchema, "SubscriptionList")


def subscription_members(subscription) -> dict:
    """The subscription's own members by attribute, for a schema that adds members of its own
    (the detail's `payments`, the portal's `allowedActions`) to dump."""
    return {field.attribute or name: getattr(subscription, field.attribute or name)
            for name, field in SubscriptionSchema().fields.items()}


class SubscriptionListArgsSchema(PageArgsSchema):
    status = fields.Enum(SubscriptionStatus, by_value=True)
    email = fields.String(validate=validate.Length(max=254), metadata={"description": "The customer's address, or part of one."})


class CancelBodySchema(CamelSchema):
    at_period_end = StrictBoolean(required=True, metadata={
        "description": "true: it runs until `currentPeriodEnd` and is not renewed; false: it ends now."})
    reason = fields.String(load_default=None, validate=validate.OneOf([reason.value for reason in CHOOSABLE_REASONS]),
                           metadata={"description": "Default requested_by_merchant."})


class ClockAdvanceBodySchema(CamelSchema):
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ADVANCE_DAYS))


class ClockSchema(CamelSchema):
    now = fields.DateTime(required=True, metadata={"description": "The store's present: the wall clock plus its test clock."})


class ClockAdvancedSchema(ClockSchema):
    renewals = fields.Integer(required=True, metadata={"description": "How many renewal charges succeeded on the way."})

