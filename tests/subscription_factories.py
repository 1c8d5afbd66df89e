"""Subscription rows for tests that need a store's subscriptions as they stand (listing,
metrics), without a checkout and renewals to get there. Tests of the lifecycle subscribe through
a checkout instead (`subscribe`)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from checkie.catalog.models import CouponDuration, Interval
from checkie.customers.models import Customer
from checkie.database import utcnow
from checkie.payments.initiation import initiate_payment
from checkie.stores.models import Store
from checkie.subscriptions import services
from checkie.subscriptions.models import Subscription, SubscriptionStatus
from tests.factories import make_customer, make_page, open_checkout


def make_subscription(db, store: Store, *, email: str = "sub@example.com", status: str = "active", amount: int = 900,
                      currency: str = "USD", interval: str = "month", interval_count: int = 1, discount: int = 0,
                      discount_duration: str | None = None, discount_until: datetime | None = None,
                      started_at: datetime | None = None, canceled_at: datetime | None = None,
                      cancel_at_period_end: bool = False, page_id: int | None = None) -> Subscription:
    """A subscription row with its customer (found or made by email), started a day ago by default."""
    customer = db.scalar(sa.select(Customer).where(Customer.store_id == store.id, Customer.email == email.lower()))
    customer = customer or make_customer(db, store, email=email)
    start = started_at or utcnow() - timedelta(days=1)
    subscription = Subscription(
        store_id=store.id, customer_id=customer.id, page_id=page_id, status=SubscriptionStatus(status), amount=amount,
        currency=currency, interval=Interval(interval), interval_count=interval_count, discount=discount,
        discount_duration=CouponDuration(discount_duration) if discount_duration else None, discount_until=discount_until,
        provider="test", payment_method="pm_card_visa", current_period_start=start,
        current_period_end=start + timedelta(days=30), cancel_at_period_end=cancel_at_period_end,
        canceled_at=canceled_at, started_at=start,
    )
    db.add(subscription)
    db.flush()
    return subscription


def subscribe(db, store: Store, *, trial_days: int = 0, card: str = "pm_card_visa", amount: int = 900,
              title: str = "Coffee club", slug: str | None = None, interval: str = "month", interval_count: int = 1,
              coupon_code: str | None = None, email: str = "shopper@example.com",
              currency: str | None = None) -> Subscription:
    """A shopper's checkout of a new subscription page (every `interval_count` × `interval`),
    committed: trialing with `trial_days`, else active with its first payment."""
    page = make_page(db, store, title=title, slug=slug, amount=amount, pricing_type="subscription", interval=interval,
                     interval_count=interval_count, trial_days=trial_days, currency=currency, publish=True)
    updates = {"email": email, "name": "Sam Shopper"} | ({"coupon_code": coupon_code} if coupon_code else {})
    checkout = open_checkout(db, page, **updates)
    db.commit()  # a coupon's redemption is held on a connection of its own, which sees committed rows
    initiate_payment(db, checkout, payment_method=card)
    db.commit()
    subscription = services.subscription_of_checkout(db, checkout.id)
    assert subscription is not None, "the checkout did not start a subscription"
    return subscription
