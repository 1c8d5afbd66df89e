"""JSON shapes for payments, customers, the balance and store stats (camelCase on the wire,
minor units for every amount)."""
from __future__ import annotations

from datetime import date

from marshmallow import fields, validate, validates_schema

from checkie.api.schemas import CamelSchema, PageArgsSchema, list_schema
from checkie.payments.models import PaymentStatus, RefundReason, RefundStatus, TransactionType
from checkie.payments.reports import MAX_REPORT_DAYS, Period
from checkie.stores.access import MAX_ID

#: Dates far enough apart for any real range, near enough that day arithmetic never overflows.
_DATES = validate.Range(min=date(1970, 1, 1), max=date(9998, 12, 31))


def _minor(description: str = "Minor units.") -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": description})


class LineItemSchema(CamelSchema):
    """One chosen variant option, named as it was when the line was taken."""

    variant = fields.String(required=True)
    option = fields.String(required=True)
    price_delta = fields.Integer(required=True, metadata={"description": "Minor units added to (or taken from) the price."})


class CustomFieldAnswerSchema(CamelSchema):
    """One answer to a custom field, under the field's label as it was when the line was taken."""

    key = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "The field's type: text, textarea, number, date, …"})
    value = fields.Raw(required=True, metadata={
        "description": "The answer: true/false for a checkbox, text for every other type (a date as YYYY-MM-DD).",
        "oneOf": [{"type": "string"}, {"type": "boolean"}],
    })


class PaymentSchema(CamelSchema):
    id = fields.Integer(required=True)
    amount = _minor()
    fee = _minor("Minor units: the platform's fee.")
    net = _minor("Minor units: amount − fee.")
    currency = fields.String(required=True)
    status = fields.Enum(PaymentStatus, by_value=True, required=True)
    amount_refunded = _minor()
    customer_id = fields.Integer(required=True, allow_none=True)
    checkout_session_id = fields.String(required=True, allow_none=True, attribute="session_id")
    page_id = fields.Integer(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    needs_review = fields.Boolean(
        required=True, metadata={"description": "Captured money that did not fit its checkout session."}
    )
    review_reason = fields.String(required=True, allow_none=True)
    page_title = fields.String(required=True, allow_none=True, metadata={"description": "The page's title when it was paid."})
    line_items = fields.List(fields.Nested(LineItemSchema), required=True, metadata={
        "description": "The chosen variant options, frozen when the payment was made (later page edits do not change them).",
    })
    custom_fields = fields.List(fields.Nested(CustomFieldAnswerSchema), required=True, metadata={
        "description": "The shopper's answers to the page's custom fields, frozen when the payment was made.",
    })
    coupon_code = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


PaymentListSchema = list_schema(PaymentSchema, "PaymentList")


class RefundSchema(CamelSchema):
    id = fields.Integer(required=True)
    payment_id = fields.Integer(required=True)
    amount = _minor()
    currency = fields.String(required=True)
    reason = fields.Enum(RefundReason, by_value=True, required=True)
    status = fields.Enum(RefundStatus, by_value=True, required=True)
    created_at = fields.DateTime(required=True)


RefundListSchema = list_schema(RefundSchema, "RefundList")


class RefundCreateSchema(CamelSchema):
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=-(2**62), max=2**62), metadata={
        "description": "Minor units to give back: more than 0 and at most what is left of the payment.",
    })
    reason = fields.Enum(RefundReason, by_value=True, load_default=RefundReason.REQUESTED_BY_CUSTOMER)


class PaymentFilterArgsSchema(CamelSchema):
    status = fields.Enum(PaymentStatus, by_value=True)
    email = fields.String(validate=validate.Length(max=254), metadata={"description": "An address, or part of one."})
    page_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    date_from = fields.Date(data_key="from", validate=_DATES, metadata={"description": "First UTC day (inclusive)."})
    date_to = fields.Date(data_key="to", validate=_DATES, metadata={"description": "Last UTC day (inclusive)."})
    needs_review = fields.Boolean()


class PaymentListArgsSchema(PageArgsSchema, PaymentFilterArgsSchema):
    pass


class SpentSchema(CamelSchema):
    currency = fields.String(required=True)
    amount = _minor("Captured minus refunded, in minor units.")


class CustomerSchema(CamelSchema):
    """A customer with what they paid. A bare Customer row (the `customer.created` event, before
    its first payment is written) dumps as no payments and nothing spent."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    payment_count = fields.Integer(required=True, dump_default=0, metadata={"description": "Every payment, refunded or not."})
    total_spent = fields.List(fields.Nested(SpentSchema), required=True, dump_default=list, metadata={
        "description": "Per currency: the amount captured minus the amount refunded (net of refunds, before fees)."})


CustomerListSchema = list_schema(CustomerSchema, "CustomerList")


class CustomerListArgsSchema(PageArgsSchema):
    email = fields.String(validate=validate.Length(max=254), metadata={"description": "Part of the email address."})
    search = fields.String(validate=validate.Length(max=200), metadata={"description": "Part of an email or name."})


class AvailableBalanceSchema(CamelSchema):
    currency = fields.String(required=True)
    available = _minor()


class BalanceSchema(CamelSchema):
    balances = fields.List(fields.Nested(AvailableBalanceSchema), required=True)


class BalanceTransactionSchema(CamelSchema):
    id = fields.Integer(required=True)
    currency = fields.String(required=True)
    type = fields.Enum(TransactionType, by_value=True, required=True)
    amount = _minor("Signed minor units: + credits the store, − debits it.")
    balance_after = _minor()
    sequence = fields.Integer(required=True)
    payment_id = fields.Integer(required=True, allow_none=True)
    description = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


BalanceTransactionListSchema = list_schema(BalanceTransactionSchema, "BalanceTransactionList")


class LedgerArgsSchema(PageArgsSchema):
    currency = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$"))


class ReportArgsSchema(CamelSchema):
    period = fields.Enum(Period, by_value=True, load_default=Period.DAY)
    date_from = fields.Date(data_key="from", validate=_DATES,
                            metadata={"description": "First UTC day (inclusive); default 29 days before `to`."})
    date_to = fields.Date(data_key="to", validate=_DATES, metadata={"description": "Last UTC day (inclusive); default today."})

    @validates_schema
    def _range(self, data, **kwargs):
        from marshmallow import ValidationError

        if "date_from" in data and "date_to" in data:
            if data["date_to"] < data["date_from"]:
                raise ValidationError("The end date must not be before the start date.", "to")
            if (data["date_to"] - data["date_from"]).days >= MAX_REPORT_DAYS:
                raise ValidationError(f"A report spans at most {MAX_REPORT_DAYS} days.", "to")


class ReportRowSchema(CamelSchema):
    start = fields.Date(required=True, metadata={"description": "First UTC day of the bucket."})
    currency = fields.String(required=True)
    gross = _minor("Minor units: payments received.")
    fees = _minor("Minor units: platform fees (positive).")
    refunds = _minor("Minor units: refunded (positive).")
    net = _minor("Minor units: gross − fees − refunds.")
    payouts = _minor("Minor units: paid out to the bank account (failed payouts' reversals deducted); not part of net.")


class ReportSchema(CamelSchema):
    period = fields.Enum(Period, by_value=True, required=True)
    rows = fields.List(fields.Nested(ReportRowSchema), required=True)


class StoreRevenueSchema(CamelSchema):
    currency = fields.String(required=True)
    amount = _minor()


class StoreOverviewSchema(CamelSchema):
    """Real numbers: payments and revenue from the payments, the rest from the pages' counters."""

    payments = fields.Integer(required=True)
    revenue = fields.List(fields.Nested(StoreRevenueSchema), required=True)
    page_views = fields.Integer(required=True)
    checkout_sessions = fields.Integer(required=True)
    conversions = fields.Integer(required=True)
    conversion_rate = fields.Float(required=True, metadata={"description": "Conversions / checkout sessions, 0–1."})
