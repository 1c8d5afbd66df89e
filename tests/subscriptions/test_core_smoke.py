"""Temporary smoke check of the subscription core (replaced by the full suite)."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.payments.initiation import initiate_payment
from checkie.payments.models import Payment
from checkie.subscriptions import renewals, services
from checkie.subscriptions.models import Subscription, SubscriptionStatus
from tests.factories import make_page, payable_checkout


def test_trial_then_two_renewals(app, db, store):
    page = make_page(db, store, amount=900, pricing_type="subscription", interval="month", trial_days=14, publish=True)
    checkout = payable_checkout(db, page)
    initiate_payment(db, checkout, payment_method="pm_card_visa")
    db.commit()
    sub = db.scalar(sa.select(Subscription))
    assert sub.status is SubscriptionStatus.TRIALING
    now, n = renewals.advance_clock(db, store, days=15)
    assert n == 1
    db.refresh(sub)
    assert sub.status is SubscriptionStatus.ACTIVE
    now, n = renewals.advance_clock(db, store, days=62)
    assert n == 2
    assert db.scalar(sa.select(sa.func.count()).select_from(Payment)) == 3
    services.cancel(db, sub, at_period_end=True)
    db.commit()
    now, n = renewals.advance_clock(db, store, days=40)
    db.refresh(sub)
    assert n == 0 and sub.status is SubscriptionStatus.CANCELED


def test_dunning(app, db, store):
    page = make_page(db, store, amount=900, pricing_type="subscription", interval="month", publish=True)
    checkout = payable_checkout(db, page)
    initiate_payment(db, checkout, payment_method="pm_card_chargeCustomerFail")
    db.commit()
    sub = db.scalar(sa.select(Subscription))
    assert sub.status is SubscriptionStatus.ACTIVE
    renewals.advance_clock(db, store, days=32)
    db.refresh(sub)
    assert sub.status is SubscriptionStatus.PAST_DUE
    renewals.advance_clock(db, store, days=10)
    db.refresh(sub)
    assert sub.status is SubscriptionStatus.CANCELED
    assert sub.cancellation_reason.value == "payment_failed"
    kinds = [e.kind for e in services.timeline(db, sub)]
    assert kinds == ["created", "payment_failed", "payment_failed", "payment_failed", "payment_failed", "canceled"], kinds
