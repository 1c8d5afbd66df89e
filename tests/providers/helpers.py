"""Factories and recorders for the provider and intake tests."""
from __future__ import annotations

import json
import threading
import types
from datetime import timedelta

from checkie.payments import initiation, intake
from checkie.catalog.models import Page, PageStatus
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.providers.stripe import sign_payload
from checkie.providers.test import build_event
from checkie.security import new_token

TEST_SECRET = "whsec_checkie_test_provider"


def make_checkout(db, store, *, total: int = 2500, currency: str = "USD", state: CheckoutState = CheckoutState.OPEN) -> CheckoutSession:
    page = Page(store_id=store.id, slug=f"page-{db.query(Page).count() + 1}", title="T-shirt", amount=total,
                currency=currency, status=PageStatus.PUBLISHED, published_at=utcnow())
    db.add(page)
    db.flush()
    checkout = CheckoutSession(
        id=f"cs_test{db.query(CheckoutSession).count() + 1:04d}", store_id=store.id, page_id=page.id, state=state,
        email="shopper@example.com", subtotal=total, total=total, currency=currency, expires_at=utcnow() + timedelta(hours=1),
    )
    db.add(checkout)
    db.flush()
    return checkout


def make_attempt(db, checkout: CheckoutSession, *, status: AttemptStatus = AttemptStatus.REQUIRES_ACTION,
                 provider: str = "test", intent_id: str = "pi_test_abc", payment_method: str = "pm_card_threeDSecureRequired") -> PaymentAttempt:
    """An attempt as the test provider leaves it, with its own 3DS token."""
    attempt = PaymentAttempt(session_id=checkout.id, number=1, provider=provider, provider_intent_id=intent_id, status=status,
                             amount=checkout.total, currency=checkout.currency, payment_method=payment_method,
                             action_token=new_token(24))
    db.add(attempt)
    db.flush()
    return attempt


def signed_event(event: dict, *, secret: str = TEST_SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    return body, {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, secret, timestamp=timestamp)}


def intent_event(event_type: str = "payment_intent.succeeded", *, intent_id: str = "pi_test_abc", amount: int = 2500,
                 currency: str = "usd", metadata: dict | None = None, **extra) -> dict:
    return build_event(event_type, intent_id=intent_id, amount=amount, currency=currency,
                       metadata=metadata or {"checkout_session_id": "cs_test0001", "store_id": "1"}, **extra)


class OutcomeRecorder:
    """Stands in for checkie.payments.outcomes: records each call (thread-safe)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self.module = types.SimpleNamespace(
            payment_succeeded=self._recorder("payment_succeeded"),
            payment_failed=self._recorder("payment_failed"),
            payment_requires_action=self._recorder("payment_requires_action"),
        )

    def _recorder(self, name: str):
        def record(db, **kwargs):
            with self._lock:
                self.calls.append((name, kwargs))

        return record

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def record_outcomes(monkeypatch) -> OutcomeRecorder:
    """Replace payments.outcomes with a recorder, for tests of the provider and intake alone."""
    recorder = OutcomeRecorder()
    monkeypatch.setattr(intake, "outcomes", recorder.module)
    monkeypatch.setattr(initiation, "outcomes", recorder.module)
    return recorder
