"""JSON shapes of coupons (SPEC §6.6), camelCase on the wire, amounts in minor units.

Input schemas check types, ranges and the code's format, so the OpenAPI document states them;
the rules between fields (one kind of discount, the currency an amount needs, pages of the
store, a free code) live in checkie.catalog.coupons, whose errors name the same fields.
"""
from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate

from checkie.api.schemas import CamelSchema, PageArgsSchema, list_schema
from checkie.catalog.coupons import (
    CODE_PATTERN,
    MAX_DURATION_MONTHS,
    MAX_REDEMPTIONS,
    MAX_RESTRICTED_PAGES,
    CouponEvaluation,
    CouponReason,
)
from checkie.catalog.models import CouponDuration
from checkie.money import CURRENCIES, MAX_AMOUNT
from checkie.stores.access import MAX_ID

_MINOR_UNITS = "Minor units (cents): 1250 is 12.50 USD."


class UtcDateTime(fields.AwareDateTime):
    """An ISO-8601 date-time read as UTC when it has no offset, and converted to UTC; a value
    that has no UTC equivalent (year 1 with a positive offset, year 9999 with a negative one)
    is invalid input, not a 500."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Not a representable date and time.") from None


def _whole_code(value: str) -> None:
    """`Regexp` matches with re.match, whose `$` also matches before a final newline."""
    if not CODE_PATTERN.fullmatch(value):
        raise ValidationError("Use 3–50 letters, digits, hyphens or underscores.")


def _strict_int(low: int, high: int, **kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


class _PageIdSchema(Schema):
    id = fields.Integer()


class CouponSchema(CamelSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "As the merchant typed it; shoppers may type it in any case."})
    percent_off = fields.Integer(required=True, allow_none=True, metadata={"description": "1–100; null for a fixed amount."})
    amount_off = fields.Integer(required=True, allow_none=True, metadata={"description": _MINOR_UNITS})
    currency = fields.String(
        required=True, allow_none=True,
        metadata={"description": "Currency of amountOff and minimumAmount; the coupon applies only to checkouts in it."},
    )
    max_redemptions = fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited."})
    redemption_count = fields.Integer(
        required=True,
        metadata={"description": "Completed redemptions plus those reserved by payments in progress."},
    )
    expires_at = fields.DateTime(required=True, allow_none=True)
    active = fields.Boolean(required=True)
    page_ids = fields.Pluck(
        _PageIdSchema, "id", many=True, attribute="pages", required=True,
        metadata={"description": "The pages it applies to; empty: every page of the store."},
    )
    minimum_amount = fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "Smallest subtotal it applies to. " + _MINOR_UNITS},
    )
    duration = fields.Enum(
        CouponDuration, by_value=True, required=True,
        metadata={"description": "For subscriptions: discount the first payment, every payment, or durationMonths months."},
    )
    duration_months = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class CouponUpdateSchema(CamelSchema):
    """Every field optional: what is sent changes, null clears. Sending percentOff drops amountOff
    and the other way round; a duration other than `repeating` drops durationMonths."""

    code = fields.String(validate=[validate.Length(min=3, max=50), validate.Regexp(CODE_PATTERN), _whole_code])
    percent_off = _strict_int(1, 100, allow_none=True)
    amount_off = _strict_int(1, MAX_AMOUNT, allow_none=True, metadata={"description": _MINOR_UNITS + " Needs currency."})
    currency = fields.String(
        allow_none=True, validate=validate.OneOf(CURRENCIES),
        metadata={
            "description": "Needed with amountOff or minimumAmount; optional otherwise "
            "(then it limits the coupon to that currency)."
        },
    )
    max_redemptions = _strict_int(1, MAX_REDEMPTIONS, allow_none=True)
    expires_at = UtcDateTime(
        default_timezone=UTC, allow_none=True,
        metadata={"description": "In the future; UTC when no offset is given."},
    )
    page_ids = fields.List(
        _strict_int(1, MAX_ID), validate=validate.Length(max=MAX_RESTRICTED_PAGES),
        metadata={"description": "Pages of this store; empty or absent: every page."},
    )
    minimum_amount = _strict_int(0, MAX_AMOUNT, allow_none=True, metadata={"description": _MINOR_UNITS + " Needs currency."})
    duration = fields.String(validate=validate.OneOf([d.value for d in CouponDuration]))
    duration_months = _strict_int(
        1, MAX_DURATION_MONTHS, allow_none=True,
        metadata={"description": "Required for, and only for, duration `repeating`."},
    )


class CouponCreateSchema(CouponUpdateSchema):
    """Exactly one of percentOff or amountOff."""

    code = fields.String(
        required=True, validate=[validate.Length(min=3, max=50), validate.Regexp(CODE_PATTERN), _whole_code],
        metadata={"description": "Unique in the store regardless of letter case."},
    )
    duration = fields.String(load_default=CouponDuration.ONCE.value, validate=validate.OneOf([d.value for d in CouponDuration]))


class CouponListArgsSchema(PageArgsSchema):
    active = fields.Boolean(load_default=None, metadata={"description": "Only active (true) or inactive (false) coupons."})


class CouponEvaluateSchema(CamelSchema):
    code = fields.String(
        required=True, validate=validate.Length(max=200),
        metadata={"description": "As a shopper would type it."},
    )
    page_id = _strict_int(1, MAX_ID, required=True)
    amount = _strict_int(
        0, MAX_AMOUNT, required=True,
        metadata={"description": "The subtotal to discount, in the page currency. " + _MINOR_UNITS},
    )


class CouponEvaluationSchema(CamelSchema):
    valid = fields.Boolean(required=True)
    reason = fields.Enum(
        CouponReason, by_value=True,
        metadata={"description": "Why the code does not apply (only when valid is false)."},
    )
    coupon = fields.Nested(CouponSchema, metadata={"description": "The coupon (only when valid is true)."})
    discount = fields.Integer(required=True, metadata={"description": _MINOR_UNITS})
    total = fields.Integer(required=True, metadata={"description": "amount − discount, never below 0."})
    currency = fields.String(required=True, metadata={"description": "The page currency."})


CouponListSchema = list_schema(CouponSchema, "CouponList")


def evaluation_view(result: CouponEvaluation) -> dict:
    view = {"valid": result.valid, "discount": result.discount, "total": result.total, "currency": result.currency}
    if result.valid:
        view["coupon"] = result.coupon
    else:
        view["reason"] = result.reason
    return view
