"""The overview's subscription figures: MRR normalised to a month per currency (mixed intervals,
counts above one, a lasting coupon, one rounding per currency), the counts by status, and churn
over the last 30 days of the store's clock."""
from __future__ import annotations

from datetime import timedelta

from checkie.database import utcnow
from checkie.subscriptions import metrics
from tests.factories import make_store
from tests.subscription_factories import make_subscription


def test_mrr_normalises_every_interval_to_a_month_per_currency(db, store):
    make_subscription(db, store, amount=1000, interval="month")                     # 1000
    make_subscription(db, store, amount=12000, interval="year")                     # 1000
    make_subscription(db, store, amount=700, interval="week")                       # 700 × 52 / 12 = 3033.33…
    make_subscription(db, store, amount=100, interval="day")                        # 100 × 365 / 12 = 3041.66…
    make_subscription(db, store, amount=3000, interval="month", interval_count=3)   # 1000
    make_subscription(db, store, amount=1500, interval="week", interval_count=2)    # 1500 × 52 / 24 = 3250
    make_subscription(db, store, amount=2000, discount=500, discount_duration="forever")  # 1500
    make_subscription(db, store, amount=2000, discount=500, discount_duration="once")     # 2000: spent on the first
    make_subscription(db, store, amount=2000, discount=500, discount_duration="repeating",
                      discount_until=utcnow() + timedelta(days=60))                 # 1500 while it runs
    make_subscription(db, store, amount=2000, discount=500, discount_duration="repeating",
                      discount_until=utcnow() - timedelta(days=1))                  # 2000 once it ran out
    make_subscription(db, store, amount=900, status="past_due")                     # 900: still billed
    make_subscription(db, store, amount=5000, currency="EUR", interval="year", interval_count=2)  # 208.33…
    make_subscription(db, store, amount=999, currency="EUR", interval="week")       # 4329
    for status in ("trialing", "paused", "canceled", "incomplete"):
        make_subscription(db, store, amount=100_000, status=status)                 # not billed now
    other = make_store(db, name="Other")
    make_subscription(db, other, amount=100_000)
    db.commit()

    assert metrics.mrr(db, store) == {"EUR": 4537, "USD": 20225}


def test_mrr_is_rounded_once_per_currency_not_per_subscription(db, store):
    for _ in range(3):
        make_subscription(db, store, amount=100, interval="week")  # 433.33… each: 1299 if rounded one by one
    db.commit()

    assert metrics.mrr(db, store) == {"USD": 1300}


def test_a_coupon_larger_than_the_price_counts_as_nothing(db, store):
    make_subscription(db, store, amount=500, discount=800, discount_duration="forever")
    db.commit()

    assert metrics.mrr(db, store) == {"USD": 0}


def test_counts_put_past_due_with_active_and_trials_apart(db, store):
    for status in ("active", "active", "past_due", "trialing", "paused", "canceled"):
        make_subscription(db, store, status=status)
    db.commit()

    assert metrics.counts(db, store) == metrics.Counts(active=3, trialing=1, paused=1)


def test_churn_is_the_share_of_those_live_30_days_ago_cancelled_since(db, store):
    now = utcnow()
    old = now - timedelta(days=90)
    for status in ("active", "trialing", "past_due", "paused"):
        make_subscription(db, store, status=status, started_at=old)                 # live, still live
    make_subscription(db, store, status="canceled", started_at=old, canceled_at=now - timedelta(days=3))   # churned
    make_subscription(db, store, status="canceled", started_at=old, canceled_at=now - timedelta(days=29))  # churned
    make_subscription(db, store, status="canceled", started_at=old, canceled_at=now - timedelta(days=31))  # gone before
    make_subscription(db, store, status="canceled", started_at=now - timedelta(days=5),
                      canceled_at=now - timedelta(days=1))                          # not live at the start
    make_subscription(db, store, status="active", started_at=now - timedelta(days=2))  # too new to count
    make_subscription(db, store, status="incomplete", started_at=old)               # never live
    db.commit()

    churn = metrics.churn(db, store, now=now)

    assert churn == metrics.Churn(canceled=2, live=6)
    assert churn.rate == 2 / 6


def test_churn_without_subscriptions_has_no_rate(db, store):
    assert metrics.churn(db, store).rate is None
    assert metrics.mrr(db, store) == {}
