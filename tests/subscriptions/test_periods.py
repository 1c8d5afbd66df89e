"""Billing periods keep their day of the month: a subscription started on Jan 31 renews on
Feb 28, then Mar 31 (not Mar 28), as a card statement would show it."""
from __future__ import annotations

from datetime import datetime, timezone

from dateutil.relativedelta import relativedelta

from checkie.database import utcnow
from checkie.subscriptions import renewals, services
from tests.subscriptions.helpers import move_clock, payments_of, subscribe


def _days_until(year: int, month: int, day: int) -> int:
    now = utcnow()
    return (datetime(year, month, day, now.hour, now.minute, tzinfo=timezone.utc) - now).days + 1


def test_a_monthly_subscription_started_on_the_31st_renews_at_each_months_end(db, store):
    move_clock(db, store, days=_days_until(utcnow().year + 1, 1, 31))
    subscription = subscribe(db, store, interval="month")
    start = subscription.started_at
    assert (start.month, start.day) == (1, 31)

    renewals.advance_clock(db, store, days=90)

    renewed = [payment.created_at.date() for payment in payments_of(db, subscription)[1:]]
    year = start.year
    assert [(d.month, d.day) for d in renewed] == [(2, 28 if year % 4 else 29), (3, 31), (4, 30)]
    db.refresh(subscription)
    assert (subscription.current_period_end.month, subscription.current_period_end.day) == (5, 31)


def test_a_resumed_subscription_counts_its_periods_from_its_new_end(db, store):
    subscription = subscribe(db, store, interval="month")
    renewals.advance_clock(db, store, days=3)
    services.pause(db, subscription)
    db.commit()
    renewals.advance_clock(db, store, days=10)
    services.resume(db, subscription)
    db.commit()
    resumed_end = subscription.current_period_end

    renewals.advance_clock(db, store, days=60)

    [_, first, second] = payments_of(db, subscription)
    assert first.created_at == resumed_end
    assert second.line["subscription"]["periodStart"] == first.line["subscription"]["periodEnd"]
    assert second.created_at == resumed_end + relativedelta(months=1)
