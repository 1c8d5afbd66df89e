"""The built-in test provider (SPEC §5): Stripe's test mode without network or keys.

It answers intents synchronously as Stripe does and, like Stripe, also reports every outcome
as a signed, Stripe-shaped event that a task posts to `/api/webhooks/test`, the same intake
path Stripe's events take."""
from __future__ import annotations

import secrets
import time
from decimal import Decimal

from sqlalchemy.orm import Session

from checkie import money
from checkie.checkout.models import CheckoutSession
from checkie.errors import NotFound
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.providers.base import IntentResult
from checkie.providers.stripe import parse_event
from checkie.providers.tasks import deliver_test_event
from checkie.tasks import enqueue_after_commit

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_insufficientFunds"
THREE_D_SECURE = "pm_card_threeDSecureRequired"

#: Stripe's test card numbers → the payment methods they stand for.
TEST_CARDS = {
    "4242424242424242": VISA,
    "4000000000000002": DECLINED,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000002760003184": THREE_D_SECURE,
}

#: Methods that decline, with Stripe's code and message.
DECLINES = {
    DECLINED: ("card_declined", "Your card was declined."),
    INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}
INVALID_METHOD = ("invalid_payment_method", "This payment method is not one of the test provider's test cards.")
AUTHENTICATION_FAILED = ("authentication_failed", "The card's authentication failed.")

#: Amounts above this many major units of any currency ask for authentication (3DS).
AUTHENTICATION_THRESHOLD = Decimal(100)

SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
REQUIRES_ACTION = "payment_intent.requires_action"


def map_test_card(number: str) -> str | None:
    """'4242 4242 4242 4242' → 'pm_card_visa'; any number that is not a test card → None (refused)."""
    return TEST_CARDS.get("".join((number or "").split()))


def authentication_url(app_url: str, attempt_id: int) -> str:
    return f"{app_url}/test-provider/3ds/{attempt_id}"


class TestProvider:
    """`PaymentProvider` for development, demos and tests."""

    __test__ = False  # not a pytest test class, whatever its name
    name = "test"
    payment_method_hint = "Send one of the test payment methods: " + ", ".join(TEST_CARDS.values()) + "."

    def __init__(self, *, app_url: str, webhook_secret: str):
        self.app_url = app_url.rstrip("/")
        self.webhook_secret = webhook_secret

    def create_payment_intent(
        self, *, amount: int, currency: str, metadata: dict, payment_method: str | None, attempt_id: int
    ) -> IntentResult:
        """Decide the outcome from the payment method and amount, and emit its event after commit."""
        intent_id = "pi_test_" + secrets.token_hex(12)
        intent = {"intent_id": intent_id, "amount": amount, "currency": currency, "metadata": metadata}
        if payment_method in DECLINES or payment_method not in TEST_CARDS.values():
            code, message = DECLINES.get(payment_method, INVALID_METHOD)
            emit_event(PAYMENT_FAILED, **intent, error=(code, message))
            return IntentResult(intent_id, "failed", failure_code=code, failure_message=message)
        if payment_method == THREE_D_SECURE or money.to_major(amount, currency) > AUTHENTICATION_THRESHOLD:
            url = authentication_url(self.app_url, attempt_id)
            emit_event(REQUIRES_ACTION, **intent, next_action_url=url)
            return IntentResult(intent_id, "requires_action", client_secret=_client_secret(intent_id), next_action_url=url)
        emit_event(SUCCEEDED, **intent)
        return IntentResult(intent_id, "succeeded", client_secret=_client_secret(intent_id))

    def accepts_payment_method(self, payment_method: str | None) -> bool:
        return payment_method in TEST_CARDS.values()

    def verify_webhook(self, payload: bytes, signature_header: str) -> dict:
        return parse_event(payload, signature_header, self.webhook_secret)


def _client_secret(intent_id: str) -> str:
    return f"{intent_id}_secret_{secrets.token_hex(12)}"


def build_event(
    event_type: str,
    *,
    intent_id: str,
    amount: int,
    currency: str,
    metadata: dict,
    error: tuple[str, str] | None = None,
    next_action_url: str | None = None,
) -> dict:
    """A Stripe-shaped event about one payment intent (amount in minor units, currency lower case)."""
    status = {SUCCEEDED: "succeeded", PAYMENT_FAILED: "requires_payment_method", REQUIRES_ACTION: "requires_action"}
    intent: dict = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency.lower(),
        "status": status.get(event_type, "processing"),
        "metadata": dict(metadata),
        "last_payment_error": {"code": error[0], "message": error[1]} if error else None,
        "next_action": (
            {"type": "redirect_to_url", "redirect_to_url": {"url": next_action_url}} if next_action_url else None
        ),
    }
    return {
        "id": "evt_test_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": intent},
    }


def emit_event(event_type: str, **intent) -> dict:
    """Build the event and have a task deliver it once the current transaction commits."""
    event = build_event(event_type, **intent)
    enqueue_after_commit(deliver_test_event, event)
    return event


def attempt_awaiting_authentication(db: Session, attempt_id: int) -> PaymentAttempt:
    """The test provider's attempt `attempt_id` while it waits for 3DS; NotFound otherwise."""
    attempt = db.get(PaymentAttempt, attempt_id)
    if (
        attempt is None
        or attempt.provider != TestProvider.name
        or attempt.status != AttemptStatus.REQUIRES_ACTION
        or not attempt.provider_intent_id
    ):
        raise NotFound("There is no payment waiting for authentication here.")
    return attempt


def finish_authentication(db: Session, attempt: PaymentAttempt, *, outcome: str) -> dict:
    """The shopper's answer on the 3DS page: `complete` → the intent succeeds, `fail` → it fails
    with `authentication_failed`. Only the event says so (after commit), as with Stripe."""
    if outcome not in ("complete", "fail"):
        raise ValueError(f"unknown authentication outcome {outcome!r}")
    checkout = db.get(CheckoutSession, attempt.session_id)
    intent = {
        "intent_id": attempt.provider_intent_id,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "metadata": {"checkout_session_id": attempt.session_id, "store_id": str(checkout.store_id)},
    }
    if outcome == "complete":
        return emit_event(SUCCEEDED, **intent)
    return emit_event(PAYMENT_FAILED, **intent, error=AUTHENTICATION_FAILED)
