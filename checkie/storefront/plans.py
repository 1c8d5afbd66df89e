"""What a shopper is told about a subscription page's terms, on the checkout and once it is done:
when the card is first charged (after the free trial, on the store's clock), how long a coupon's
discount lasts, and what happens next. The price per period is worded by the `per_period` macro
of templates/storefront/_summary.html, so the merchant's preview words it the same way."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from checkie.catalog.models import Coupon, CouponDuration, PricingType
from checkie.catalog.snapshot import PageView
from checkie.checkout.models import CheckoutSession
from checkie.money import format_money
from checkie.payments.models import Payment
from checkie.subscriptions import clock, periods, services
from checkie.subscriptions.models import Subscription


@dataclass(frozen=True)
class Plan:
    """A subscription checkout's terms. `next_charge_on`: the trial's end, or (no trial) when
    the second period starts; `regular_amount`: what each period costs once a limited coupon
    has run out (minor units); `discount_terms`: the coupon's duration in words, if any."""

    trial_days: int
    next_charge_on: str
    regular_amount: int
    discount_terms: str | None


def plan_of(db: Session, checkout: CheckoutSession, page: PageView, coupon: Coupon | None) -> Plan | None:
    """The terms to show beside the price summary; None for a one-time page."""
    if page.pricing_type is not PricingType.SUBSCRIPTION or page.interval is None:
        return None
    now = clock.now(db, page.store_id)
    if checkout.trial_days > 0:
        next_charge = now + timedelta(days=checkout.trial_days)
    else:
        next_charge = periods.period_after(now, page.interval, page.interval_count)
    applied = coupon if coupon is not None and checkout.discount > 0 else None
    forever = applied is not None and applied.duration is CouponDuration.FOREVER
    return Plan(
        trial_days=checkout.trial_days, next_charge_on=day_text(next_charge),
        regular_amount=checkout.total if forever else checkout.subtotal,
        discount_terms=discount_terms(applied, checkout.currency) if applied else None,
    )


def discount_terms(coupon: Coupon, currency: str) -> str:
    """"10 % off the first payment", "$2.00 off every payment", "10 % off for 3 months"."""
    off = f"{coupon.percent_off} % off" if coupon.percent_off else f"{format_money(coupon.amount_off or 0, currency)} off"
    if coupon.duration is CouponDuration.FOREVER:
        return f"{off} every payment"
    if coupon.duration is CouponDuration.REPEATING and coupon.duration_months:
        months = coupon.duration_months
        return f"{off} for {months} month{'' if months == 1 else 's'}"
    return f"{off} the first payment"


def next_steps(db: Session, checkout: CheckoutSession, payment: Payment | None) -> str | None:
    """The success page's sentence about what happens next, for the subscription the checkout
    started: "Your trial ends on 21 Dec 2026, then €9.00 every month." or "You paid $9.00. Next
    payment of $9.00 on 7 Jan 2027." None for a one-time checkout."""
    subscription = services.subscription_of_checkout(db, checkout.id)
    if subscription is None:
        return None
    if payment is None:  # a free trial: the card was saved, nothing is paid until the trial ends
        ends = subscription.trial_end or subscription.current_period_end
        return f"Your trial ends on {day_text(ends)}, then {services.price_text(subscription)}."
    paid = format_money(payment.amount, payment.currency)
    return f"You paid {paid}. Next payment of {_next_charge(subscription)} on {day_text(subscription.current_period_end)}."


def _next_charge(subscription: Subscription) -> str:
    """The renewal after the first payment, with the coupon if it still applies then."""
    amount = periods.charge_amount(subscription, period_start=subscription.current_period_end, payments_so_far=1)
    return format_money(amount, subscription.currency)


def day_text(moment: datetime) -> str:
    """"7 Jan 2027": the day without a leading zero, as the emails write it."""
    return f"{moment.day} {moment:%b %Y}"
