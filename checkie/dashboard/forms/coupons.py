"""The coupon form and the button forms of the coupon screens.

The form speaks the merchant's language (amounts in major units such as "12.50", the expiry as
a UTC date and time); `coupon_terms` turns it into the service's terms (minor units, aware
datetimes) and what only the form can tell is wrong. The rules live in checkie.catalog.coupons,
whose field errors carry these fields' names, so `copy_errors` puts every message beside its field.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from checkie.catalog.models import Coupon, CouponDuration, Page
from checkie.money import CURRENCIES, MoneyError, to_major, to_minor

KIND_PERCENT, KIND_AMOUNT = "percent", "amount"
DURATION_CHOICES = [
    SelectChoice(CouponDuration.ONCE.value, "Once — the first payment only"),
    SelectChoice(CouponDuration.FOREVER.value, "Forever — every payment"),
    SelectChoice(CouponDuration.REPEATING.value, "Repeating — for a number of months"),
]
#: What datetime-local inputs send (seconds are optional in browsers).
_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class CouponForm(FlaskForm):
    code = StringField("Code", validators=[InputRequired("Enter a code."), Length(max=50)])
    kind = RadioField(
        "Discount",
        choices=[SelectChoice(KIND_PERCENT, "Percentage off"), SelectChoice(KIND_AMOUNT, "Fixed amount off")],
        default=KIND_PERCENT,
    )
    percent_off = IntegerField("Percent off", validators=[Optional()])
    amount_off = StringField("Amount off", validators=[Optional(), Length(max=24)])
    currency = SelectField("Currency", choices=[SelectChoice("", "Any currency"), *(SelectChoice(code) for code in CURRENCIES)])
    minimum_amount = StringField("Minimum subtotal", validators=[Optional(), Length(max=24)])
    max_redemptions = IntegerField("Maximum redemptions", validators=[Optional()])
    expires_at = DateTimeLocalField("Expires (UTC)", format=_LOCAL_FORMATS, validators=[Optional()])
    page_ids = SelectMultipleField("Only on these pages", coerce=int)
    duration = SelectField("On subscriptions, discount", choices=DURATION_CHOICES, default=CouponDuration.ONCE.value)
    duration_months = IntegerField("Months", validators=[Optional()])

    def set_pages(self, pages: list[Page]) -> CouponForm:
        self.page_ids.choices = [SelectChoice(page.id, page.title) for page in pages]
        return self


class CouponActionForm(FlaskForm):
    """Deactivate, activate, delete: no fields but the CSRF token and where to go back to."""

    back = HiddenField(validators=[Optional(), AnyOf(["list", "coupon"])])


def new_coupon_form(pages: list[Page], *, currency: str) -> CouponForm:
    return CouponForm(formdata=None, data={"currency": currency}).set_pages(pages)


def edit_coupon_form(coupon: Coupon, pages: list[Page]) -> CouponForm:
    """The form filled with the coupon's terms, amounts back in major units."""
    currency = coupon.currency or ""
    data = {
        "code": coupon.code,
        "kind": KIND_AMOUNT if coupon.amount_off is not None else KIND_PERCENT,
        "percent_off": coupon.percent_off,
        "amount_off": _major(coupon.amount_off, currency),
        "currency": currency,
        "minimum_amount": _major(coupon.minimum_amount, currency),
        "max_redemptions": coupon.max_redemptions,
        "expires_at": coupon.expires_at.replace(tzinfo=None) if coupon.expires_at else None,
        "page_ids": [page.id for page in coupon.pages],
        "duration": coupon.duration.value,
        "duration_months": coupon.duration_months,
    }
    return CouponForm(formdata=None, data=data).set_pages(pages)


def coupon_terms(form: CouponForm, *, current: Coupon | None = None) -> tuple[dict, dict[str, list[str]]]:
    """The service's terms from a submitted form — the chosen kind's value only, amounts in minor
    units of the chosen currency, the expiry as UTC, months only for repeating coupons — and the
    problems only the form can see (a missing value for the chosen kind, an amount that is not
    one of the currency), by field. A field with a problem holds a harmless stand-in, so the
    service can still check everything else."""
    problems: dict[str, list[str]] = {}
    currency = form.currency.data or None
    terms = {
        "code": form.code.data or "",
        "currency": currency,
        "percent_off": None,
        "amount_off": None,
        "minimum_amount": _minor(form.minimum_amount, currency, problems),
        "max_redemptions": form.max_redemptions.data,
        "expires_at": _expiry(form.expires_at.data, current),
        "page_ids": list(form.page_ids.data or []),
        "duration": form.duration.data,
        "duration_months": form.duration_months.data if form.duration.data == CouponDuration.REPEATING else None,
    }
    if form.kind.data == KIND_AMOUNT:
        terms["amount_off"] = _minor(form.amount_off, currency, problems)
        if terms["amount_off"] is None:
            problems.setdefault("amount_off", ["Enter the amount to take off, e.g. 5.00."])
            terms["amount_off"] = 1
    else:
        terms["percent_off"] = form.percent_off.data
        if terms["percent_off"] is None:
            problems["percent_off"] = ["Enter a percentage from 1 to 100."]
            terms["percent_off"] = 1
        # A percentage is currency-free: it keeps a currency only for its minimum subtotal, so
        # the form's default (the store's currency) does not tie it to one currency's pages.
        if terms["minimum_amount"] is None and "minimum_amount" not in problems:
            terms["currency"] = None
    return terms, problems


def _major(amount: int | None, currency: str) -> str | None:
    if amount is None:
        return None
    return str(to_major(amount, currency)) if currency else str(amount)


def _minor(field, currency: str | None, errors: dict[str, list[str]]) -> int | None:
    text = (field.data or "").strip()
    if not text:
        return None
    if currency is None:
        errors["currency"] = ["Choose the currency of the amounts."]
        return None
    try:
        return to_minor(text, currency)
    except MoneyError as problem:
        errors[field.name] = [str(problem)]
        return None


def _expiry(value: datetime | None, current: Coupon | None) -> datetime | None:
    """The typed time as UTC. The form shows minutes only, so an unchanged expiry of the coupon
    being edited keeps its exact value (a past one may stay; a new one must be in the future)."""
    if value is None:
        return None
    moment = value.replace(tzinfo=UTC)
    kept = current.expires_at if current is not None else None
    if kept is not None and kept.replace(second=0, microsecond=0) == moment.replace(second=0, microsecond=0):
        return kept
    return moment
