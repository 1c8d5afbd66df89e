"""Subscriptions as the service tests make them: through a subscription page's real checkout."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from checkie.notifications.models import EmailMessage
from checkie.payments.models import Payment
from checkie.providers.test import TestProvider
from checkie.subscriptions import clock
from checkie.subscriptions.models import SubscriptionRenewal
from tests import subscription_factories

DAY = timedelta(days=1)


def subscribe(db, store, *, amount: int = 1000, interval: str = "week", interval_count: int = 1, trial_days: int = 0,
              card: str = "pm_card_visa", coupon_code: str | None = None, email: str = "sam@example.com",
              slug: str | None = None):
    """A shopper buys a weekly subscription page through checkout (committed); its subscription."""
    return subscription_factories.subscribe(
        db, store, amount=amount, interval=interval, interval_count=interval_count, trial_days=trial_days, card=card,
        coupon_code=coupon_code, email=email, slug=slug,
    )


def payments_of(db, subscription) -> list[Payment]:
    """Oldest first."""
    db.expire_all()
    return list(db.scalars(sa.select(Payment).where(Payment.subscription_id == subscription.id).order_by(Payment.id)))


def renewals_of(db, subscription) -> list[SubscriptionRenewal]:
    db.expire_all()
    return list(db.scalars(sa.select(SubscriptionRenewal).where(SubscriptionRenewal.subscription_id == subscription.id)
                           .order_by(SubscriptionRenewal.period_start)))


def open_renewal(db, subscription) -> SubscriptionRenewal:
    [renewal] = [row for row in renewals_of(db, subscription) if row.status.value == "scheduled"]
    return renewal


def emails(db, kind: str) -> list[EmailMessage]:
    return list(db.scalars(sa.select(EmailMessage).where(EmailMessage.kind == kind).order_by(EmailMessage.id)))


def move_clock(db, store, days: float) -> None:
    """Only the store's clock moves (nothing is processed): renewals fall due without running."""
    clock.advance(db, store.id, timedelta(days=days))
    db.commit()


class ChargeRecorder:
    """Wraps the test provider's charge_customer: every call's key and answered intent id."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, str, str]] = []
        original = TestProvider.charge_customer

        def recording(provider, **kwargs):
            result = original(provider, **kwargs)
            self.calls.append((kwargs["idempotency_key"], result.intent_id, result.status))
            return result

        monkeypatch.setattr(TestProvider, "charge_customer", recording)
