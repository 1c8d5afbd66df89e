"""Billing periods and what each charge of a subscription costs (minor units)."""
from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from checkie.catalog.models import CouponDuration, Interval
from checkie.subscriptions.models import Subscription

_STEPS = {
    Interval.DAY: lambda n: relativedelta(days=n),
    Interval.WEEK: lambda n: relativedelta(weeks=n),
    Interval.MONTH: lambda n: relativedelta(months=n),
    Interval.YEAR: lambda n: relativedelta(years=n),
}


def period_after(start: datetime, interval: Interval, count: int, *, anchor: datetime | None = None) -> datetime:
    """Where a period that starts at `start` ends: a month from Jan 31 ends on Feb 28 (or 29).
    With `anchor`, months and years end on the anchor's day where the month has it, so a
    period that starts on a shortened Feb 28 of a Jan 31 anchor ends on Mar 31, not Mar 28."""
    step = _STEPS[interval](count)
    if anchor is not None and interval in (Interval.MONTH, Interval.YEAR):
        step += relativedelta(day=anchor.day)  # relativedelta clamps the day to the month's last
    return start + step


def next_period_end(subscription: Subscription, period_start: datetime) -> datetime:
    """The end of the subscription's period that starts at `period_start`, on its billing anchor's day."""
    anchor = subscription.billing_anchor or subscription.trial_end or subscription.started_at
    return period_after(period_start, subscription.interval, subscription.interval_count, anchor=anchor)


def discount_until(first_charge_at: datetime, months: int | None) -> datetime | None:
    """A `repeating` coupon discounts the charges of its first `months` months of paid periods."""
    return first_charge_at + relativedelta(months=months) if months else None


def discount_applies(subscription: Subscription, *, period_start: datetime, payments_so_far: int) -> bool:
    """Whether the charge for the period starting at `period_start` is discounted: `once` the
    first payment only, `forever` every one, `repeating` those of periods starting before
    `discount_until`."""
    if not subscription.discount or subscription.discount_duration is None:
        return False
    if subscription.discount_duration is CouponDuration.ONCE:
        return payments_so_far == 0
    if subscription.discount_duration is CouponDuration.FOREVER:
        return True
    return subscription.discount_until is not None and period_start < subscription.discount_until


def charge_amount(subscription: Subscription, *, period_start: datetime, payments_so_far: int) -> int:
    """What the period starting at `period_start` costs, after the coupon if it still applies."""
    if discount_applies(subscription, period_start=period_start, payments_so_far=payments_so_far):
        return max(subscription.amount - subscription.discount, 0)
    return subscription.amount


#: Periods per year of each interval, for normalising to a month (MRR): a week is 52/12 of a month.
_PER_YEAR = {Interval.DAY: 365, Interval.WEEK: 52, Interval.MONTH: 12, Interval.YEAR: 1}


def monthly_share(amount: int, interval: Interval, count: int) -> float:
    """`amount` per `count` × `interval`, as a share of a month in minor units (not rounded: the
    caller rounds the sum once)."""
    return amount * _PER_YEAR[interval] / (12 * count)


def remaining(subscription: Subscription, at: datetime) -> timedelta:
    """What is left of the current period at `at` (never negative)."""
    return max(subscription.current_period_end - at, timedelta(0))
