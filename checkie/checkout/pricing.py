"""What a checkout costs: the page price plus the chosen options' deltas, minus a coupon.

All amounts are minor units of the page's currency. Nothing here writes but `apply_amounts`,
which sets the session's three amount columns.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from checkie.catalog.coupons import CouponEvaluation, CouponReason, evaluate_coupon
from checkie.catalog.models import Coupon, Page, PricingType
from checkie.catalog.snapshot import PageView
from checkie.checkout.models import CheckoutSession
from checkie.errors import ValidationFailed
from checkie.money import discount_amount, format_money

#: What the shopper reads beside the coupon field, per refusal reason.
COUPON_MESSAGES = {
    CouponReason.NOT_FOUND: "This code does not exist.",
    CouponReason.INACTIVE: "This code is no longer active.",
    CouponReason.EXPIRED: "This code has expired.",
    CouponReason.EXHAUSTED: "This code has been used up.",
    CouponReason.NOT_APPLICABLE: "This code does not apply to this purchase.",
    CouponReason.BELOW_MINIMUM: "The order is below this code's minimum amount.",
}


@dataclass(frozen=True)
class Amounts:
    subtotal: int
    discount: int
    total: int


@dataclass(frozen=True)
class RemovedCoupon:
    """A coupon the session carried that its new selection no longer qualifies for (below its
    minimum, not for this page…): dropped so that the change is saved, and said why."""

    code: str
    reason: CouponReason
    #: Minor units of `currency`, when the coupon has a minimum.
    minimum_amount: int | None
    currency: str

    @property
    def message(self) -> str:
        """What the shopper reads beside the coupon box."""
        if self.reason is CouponReason.BELOW_MINIMUM and self.minimum_amount is not None:
            why = f"this order is below its {format_money(self.minimum_amount, self.currency)} minimum"
        else:
            text = COUPON_MESSAGES[self.reason].rstrip(".")
            why = text[0].lower() + text[1:]
        return f"Coupon {self.code} was removed: {why}."


def default_variant_options(page: Page | PageView) -> dict[str, int]:
    """The first option of every variant that has options: {"<variant id>": option id}."""
    return {str(variant.id): variant.options[0].id for variant in page.variants if variant.options}


def subtotal_for(page: Page | PageView, variant_options: dict) -> int:
    """Page amount plus the deltas of the chosen options (never below 0)."""
    deltas = {
        (str(variant.id), option.id): option.price_delta for variant in page.variants for option in variant.options
    }
    total = page.amount + sum(deltas.get((str(vid), oid), 0) for vid, oid in variant_options.items())
    return max(total, 0)


def chosen_options(page: Page | PageView, variant_options: dict | None) -> list[tuple[str, str]]:
    """[(variant name, option name)] of a choice ({"<variant id>": option id}), in the page's
    order: what the summary, the receipt and the success page list."""
    chosen = variant_options or {}
    return [
        (variant.name, option.name)
        for variant in page.variants for option in variant.options
        if chosen.get(str(variant.id)) == option.id
    ]


def check_variant_options(page: Page | PageView, value: object) -> dict[str, int]:
    """The shopper's choice, cleaned: an object mapping every variant id of the page to one of
    its option ids (ids may come as strings). ValueError with the message otherwise."""
    if not isinstance(value, dict):
        raise ValueError("Choose an option for every variant.")  # noqa: TRY004  (shown to the shopper)
    options = {str(v.id): {o.id for o in v.options} for v in page.variants if v.options}
    chosen: dict[str, int] = {}
    for raw_variant, raw_option in value.items():
        variant_id, option_id = str(raw_variant).strip(), _as_id(raw_option)
        if variant_id not in options:
            raise ValueError("This page has no such variant.")
        if option_id not in options[variant_id]:
            raise ValueError("Choose one of the variant's options.")
        chosen[variant_id] = option_id
    if set(chosen) != set(options):
        raise ValueError("Choose an option for every variant.")
    return chosen


def _as_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def coupon_problem(evaluation: CouponEvaluation) -> ValidationFailed:
    """The ValidationFailed on `coupon_code` for a refused code; `.reason` carries the reason
    value (e.g. "expired") for JSON clients."""
    reason = evaluation.reason or CouponReason.NOT_APPLICABLE
    error = ValidationFailed.on("coupon_code", COUPON_MESSAGES[reason])
    error.reason = reason.value
    return error


def amounts_for(
    db: Session, page: Page | PageView, variant_options: dict, coupon: Coupon | None, *, reserved: bool = False
) -> Amounts:
    """Amounts with `coupon` applied. A coupon this session already holds a redemption of is
    not re-checked (its own reservation would count it as used up); otherwise a code that no
    longer applies raises ValidationFailed on `coupon_code`."""
    subtotal = subtotal_for(page, variant_options)
    if coupon is None:
        return Amounts(subtotal, 0, subtotal)
    if reserved:
        discount = discount_amount(subtotal, percent_off=coupon.percent_off, amount_off=coupon.amount_off)
        return Amounts(subtotal, discount, subtotal - discount)
    evaluation = evaluate_coupon(db, page.store, coupon.code, page=page, subtotal=subtotal, currency=page.currency)
    if not evaluation.valid:
        raise coupon_problem(evaluation)
    return Amounts(subtotal, evaluation.discount, evaluation.total)


def apply_amounts(checkout: CheckoutSession, amounts: Amounts, page: Page | PageView) -> None:
    """Price the session; a subscription page's free trial is priced with it (nothing due now)."""
    checkout.subtotal, checkout.discount, checkout.total = amounts.subtotal, amounts.discount, amounts.total
    checkout.trial_days = trial_days_of(page)


def trial_days_of(page: Page | PageView) -> int:
    return page.trial_days if page.pricing_type is PricingType.SUBSCRIPTION else 0
