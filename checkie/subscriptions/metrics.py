"""The overview's subscription figures (SPEC §3): monthly recurring revenue per currency, how
many subscriptions are live, and churn over the last 30 days of the store's clock.

Each is one or two grouped queries; nothing walks every subscription in Python. Times are the
store's clock (a test-mode store's may run ahead), so advancing it moves these figures too."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.catalog.models import CouponDuration
from checkie.stores.models import Store
from checkie.subscriptions import clock, periods
from checkie.subscriptions.models import Subscription, SubscriptionStatus

#: Subscriptions that bring in money now: MRR counts them, and so does "active".
BILLED = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
#: Subscriptions that have not ended (nor failed to start): churn's denominator.
LIVE = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.PAUSED)
CHURN_WINDOW = timedelta(days=30)


class Counts(NamedTuple):
    #: Active and past due (still billed while dunning retries).
    active: int
    trialing: int
    paused: int


class Churn(NamedTuple):
    """Of the `live` subscriptions at the window's start, how many were `canceled` within it."""

    canceled: int
    live: int

    @property
    def rate(self) -> float | None:
        return self.canceled / self.live if self.live else None


def mrr(db: Session, store: Store, *, now: datetime | None = None) -> dict[str, int]:
    """Monthly recurring revenue in minor units per currency (sorted by code): each billed
    subscription's charge per period, after a coupon that still applies to every coming charge
    (`forever`, or `repeating` until its end), as a share of a month. One sum per
    (currency, interval, count) from the database; the shares are added and rounded once."""
    now = now or clock.now(db, store.id)
    per_period = sa.func.sum(_amount_after_lasting_discount(now))
    rows = db.execute(
        sa.select(Subscription.currency, Subscription.interval, Subscription.interval_count, per_period)
        .where(Subscription.store_id == store.id, Subscription.status.in_(BILLED))
        .group_by(Subscription.currency, Subscription.interval, Subscription.interval_count)
    )
    shares: dict[str, float] = {}
    for currency, interval, count, total in rows:
        shares[currency] = shares.get(currency, 0.0) + periods.monthly_share(int(total), interval, count)
    return {currency: round(shares[currency]) for currency in sorted(shares)}


def _amount_after_lasting_discount(now: datetime) -> sa.ColumnElement[int]:
    """What each coming charge costs (never below zero): a `once` coupon is spent already, a
    `repeating` one counts until `discount_until`."""
    lasting = sa.or_(
        Subscription.discount_duration == CouponDuration.FOREVER,
        sa.and_(Subscription.discount_duration == CouponDuration.REPEATING, Subscription.discount_until > now),
    )
    discounted = sa.case((Subscription.amount > Subscription.discount, Subscription.amount - Subscription.discount), else_=0)
    return sa.case((lasting, discounted), else_=Subscription.amount)


def counts(db: Session, store: Store) -> Counts:
    """How many subscriptions are active (past due included), trialing and paused."""
    by_status = dict(db.execute(
        sa.select(Subscription.status, sa.func.count())
        .where(Subscription.store_id == store.id, Subscription.status.in_(LIVE))
        .group_by(Subscription.status)
    ).all())
    return Counts(
        active=by_status.get(SubscriptionStatus.ACTIVE, 0) + by_status.get(SubscriptionStatus.PAST_DUE, 0),
        trialing=by_status.get(SubscriptionStatus.TRIALING, 0), paused=by_status.get(SubscriptionStatus.PAUSED, 0),
    )


def churn(db: Session, store: Store, *, now: datetime | None = None) -> Churn:
    """Churn over the 30 days up to `now` (default: the store's clock). Live at the window's
    start: started by then and not yet canceled (trialing, active, past due or paused then,
    whatever it is now). Canceled: of those, the ones whose cancellation falls in the window, so
    the figure reads "n of m" and never passes 100 %."""
    now = now or clock.now(db, store.id)
    start = now - CHURN_WINDOW
    live_at_start = sa.and_(
        Subscription.started_at <= start,
        sa.or_(Subscription.status.in_(LIVE), Subscription.canceled_at > start),
    )
    canceled_in_window = sa.and_(Subscription.status == SubscriptionStatus.CANCELED, Subscription.canceled_at <= now)
    live, canceled = db.execute(
        sa.select(sa.func.count(), sa.func.count().filter(canceled_in_window))
        .where(Subscription.store_id == store.id, live_at_start)
    ).one()
    return Churn(canceled=canceled, live=live)
