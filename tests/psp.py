"""The payment provider as the tests see it: its signed webhook events, a scripted stand-in for
the provider, and a recorder standing in for payments.outcomes."""
from __future__ import annotations

import itertools
import json
import threading
import types
from dataclasses import dataclass, field

from checkie.payments import initiation, intake
from checkie.providers.base import IntentResult
from checkie.providers.stripe import sign_payload
from checkie.providers.test import build_event

TEST_SECRET = "whsec_checkie_test_provider"


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


_intent_numbers = itertools.count(1)


@dataclass
class FakeProvider:
    """Answers create_payment_intent with the scripted statuses in order (default succeeded)."""

    statuses: list[str] = field(default_factory=list)
    name: str = "test"
    calls: list[dict] = field(default_factory=list)
    payment_method_hint: str = "Any payment method will do."

    def accepts_payment_method(self, payment_method) -> bool:
        return True

    def create_payment_intent(self, *, amount, currency, metadata, payment_method) -> IntentResult:
        self.calls.append({"amount": amount, "currency": currency, "metadata": metadata, "payment_method": payment_method})
        status = self.statuses.pop(0) if self.statuses else "succeeded"
        intent_id = f"pi_fake_{next(_intent_numbers)}"
        if status == "failed":
            return IntentResult(intent_id, "failed", failure_code="card_declined", failure_message="Your card was declined.")
        if status == "requires_action":
            token = f"tok_{intent_id}"
            return IntentResult(intent_id, "requires_action", next_action_url=f"http://localhost/test-provider/3ds/{token}",
                                action_token=token)
        return IntentResult(intent_id, status)
