"""The built-in test provider (SPEC §5): Stripe's test mode without network or keys.

It answers intents synchronously as Stripe does and, like Stripe, also reports every outcome
as a signed, Stripe-shaped event to `/api/webhooks/test`, the same intake path Stripe's events
take. A pure adapter: it decides outcomes and builds, signs and posts events; the platform keeps
those events as durable work and serves the 3-D Secure page (checkie.payments.test_provider)."""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TypedDict

import requests

from checkie import money
from checkie.providers import test_payouts
from checkie.providers.base import IntentResult, PayoutResult, RefundResult
from checkie.providers.stripe import (
    PAYMENT_FAILED,
    REQUIRES_ACTION,
    SETUP_FAILED,
    SETUP_REQUIRES_ACTION,
    SETUP_SUCCEEDED,
    SUCCEEDED,
    parse_event,
    sign_payload,
)
from checkie.security import new_token

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_insufficientFunds"
THREE_D_SECURE = "pm_card_threeDSecureRequired"
#: Pays the checkout, then declines every later charge of the customer (renewals), as in Stripe.
CHARGE_CUSTOMER_FAIL = "pm_card_chargeCustomerFail"

#: Stripe's test card numbers → the payment methods they stand for.
TEST_CARDS = {
    "4242424242424242": VISA,
    "4000000000000002": DECLINED,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000002760003184": THREE_D_SECURE,
    "4000000000000341": CHARGE_CUSTOMER_FAIL,
}

#: Methods that decline, with Stripe's code and message.
DECLINES = {
    DECLINED: ("card_declined", "Your card was declined."),
    INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}
INVALID_METHOD = ("invalid_payment_method", "This payment method is not one of the test provider's test cards.")
AUTHENTICATION_FAILED = ("authentication_failed", "The card's authentication failed.")
#: A charge without the customer present cannot ask for 3-D Secure (Stripe's off-session answer).
AUTHENTICATION_REQUIRED = ("authentication_required", "The card needs the customer to authenticate this payment.")

#: Amounts above this many major units of any currency ask for authentication (3DS).
AUTHENTICATION_THRESHOLD = Decimal(100)

WEBHOOK_PATH = "/api/webhooks/test"
#: Random bytes in the 3DS step's token: 192 bits, so that a step cannot be found by guessing.
ACTION_TOKEN_BYTES = 24

#: How an event reaches the intake: (url, body, headers) → the HTTP status code.
Transport = Callable[[str, bytes, dict], int]


def post_over_network(url: str, body: bytes, headers: dict) -> int:
    """The default transport: a real POST to the app's public URL, as Stripe's events arrive.
    Each worker thread keeps one keep-alive session: a task posts event after event, and a new
    TCP connection per event cost the worker and the web server more than the POST itself. A
    connection the server closed meanwhile is replaced (urllib3 checks before reuse); a POST
    that fails all the same leaves its event row due, and the outbox posts it again."""
    session = getattr(_thread_sessions, "session", None)
    if session is None:
        session = _thread_sessions.session = requests.Session()
    return session.post(url, data=body, headers=headers, timeout=10, allow_redirects=False).status_code


_thread_sessions = threading.local()


def map_test_card(number: str) -> str | None:
    """'4242 4242 4242 4242' → 'pm_card_visa'; any number that is not a test card → None (refused)."""
    return TEST_CARDS.get("".join((number or "").split()))


def authentication_url(app_url: str, action_token: str) -> str:
    return f"{app_url}/test-provider/3ds/{action_token}"


class _Intent(TypedDict):
    intent_id: str
    amount: int
    currency: str
    metadata: dict


class TestProvider:
    """`PaymentProvider` for development, demos and tests."""

    __test__ = False  # not a pytest test class, whatever its name
    name = "test"
    payment_method_hint = "Send one of the test payment methods: " + ", ".join(TEST_CARDS.values()) + "."

    def __init__(self, *, app_url: str, webhook_secret: str, transport: Transport = post_over_network):
        self.app_url = app_url.rstrip("/")
        self.webhook_secret = webhook_secret
        #: Handed in, so that a caller where no server listens on APP_URL (the test suite) can
        #: deliver to the same URL, headers and view without the network.
        self.transport = transport

    def create_payment_intent(self, *, amount: int, currency: str, metadata: dict, payment_method: str | None) -> IntentResult:
        """Decide the outcome from the payment method and amount; the result carries its event."""
        intent_id = "pi_test_" + secrets.token_hex(12)
        intent: _Intent = {"intent_id": intent_id, "amount": amount, "currency": currency, "metadata": metadata}
        if payment_method in DECLINES or payment_method not in TEST_CARDS.values():
            code, message = DECLINES.get(payment_method or "", INVALID_METHOD)
            event = build_event(PAYMENT_FAILED, **intent, error=(code, message))
            return IntentResult(intent_id, "failed", failure_code=code, failure_message=message, events=(event,))
        if payment_method == THREE_D_SECURE or money.to_major(amount, currency) > AUTHENTICATION_THRESHOLD:
            token = new_token(ACTION_TOKEN_BYTES)
            url = authentication_url(self.app_url, token)
            event = build_event(REQUIRES_ACTION, **intent, next_action_url=url)
            return IntentResult(intent_id, "requires_action", client_secret=_client_secret(intent_id),
                                next_action_url=url, action_token=token, events=(event,))
        event = build_event(SUCCEEDED, **intent)
        return IntentResult(intent_id, "succeeded", client_secret=_client_secret(intent_id), events=(event,))

    def create_setup_intent(self, *, metadata: dict, payment_method: str | None) -> IntentResult:
        """Save the card for later charges without charging it (a free trial), as Stripe's
        SetupIntent: a declining card fails, the 3DS card asks for authentication first."""
        intent_id = "seti_test_" + secrets.token_hex(12)
        intent: _Intent = {"intent_id": intent_id, "amount": 0, "currency": "", "metadata": metadata}
        if payment_method in DECLINES or payment_method not in TEST_CARDS.values():
            code, message = DECLINES.get(payment_method or "", INVALID_METHOD)
            event = build_event(SETUP_FAILED, **intent, error=(code, message))
            return IntentResult(intent_id, "failed", failure_code=code, failure_message=message, events=(event,))
        if payment_method == THREE_D_SECURE:
            token = new_token(ACTION_TOKEN_BYTES)
            url = authentication_url(self.app_url, token)
            event = build_event(SETUP_REQUIRES_ACTION, **intent, next_action_url=url)
            return IntentResult(intent_id, "requires_action", client_secret=_client_secret(intent_id),
                                next_action_url=url, action_token=token, events=(event,))
        event = build_event(SETUP_SUCCEEDED, **intent)
        return IntentResult(intent_id, "succeeded", client_secret=_client_secret(intent_id), events=(event,))

    def create_customer(self, *, email: str, name: str | None, metadata: dict) -> str:
        """A customer id that follows from the store and the address (the test provider keeps no state)."""
        digest = hashlib.sha256(f"{metadata.get('store_id')}:{email}".encode()).hexdigest()[:24]
        return "cus_test_" + digest

    def charge_customer(self, *, customer_id: str, payment_method: str, amount: int, currency: str, metadata: dict,
                        idempotency_key: str) -> IntentResult:
        """Charge a saved card without the customer present (a renewal). The intent id follows
        from the key, so a repeated key answers the same charge, as Stripe does. The outcome
        follows from the card: `pm_card_chargeCustomerFail` and the declining cards decline, the
        3DS card fails with `authentication_required`. No event is posted: the caller records
        the synchronous answer itself."""
        digest = hashlib.sha256(f"{customer_id}:{idempotency_key}".encode()).hexdigest()[:24]
        intent_id = "pi_test_" + digest
        if payment_method == CHARGE_CUSTOMER_FAIL:
            code, message = DECLINES[DECLINED]
            return IntentResult(intent_id, "failed", failure_code=code, failure_message=message)
        if payment_method in DECLINES or payment_method not in TEST_CARDS.values():
            code, message = DECLINES.get(payment_method, INVALID_METHOD)
            return IntentResult(intent_id, "failed", failure_code=code, failure_message=message)
        if payment_method == THREE_D_SECURE:
            code, message = AUTHENTICATION_REQUIRED
            return IntentResult(intent_id, "failed", failure_code=code, failure_message=message)
        return IntentResult(intent_id, "succeeded")

    def accepts_payment_method(self, payment_method: str | None) -> bool:
        return payment_method in TEST_CARDS.values()

    def verify_webhook(self, payload: bytes, signature_header: str) -> dict:
        return parse_event(payload, signature_header, self.webhook_secret)

    def post_event(self, event: dict) -> int:
        """Sign `event` with the webhook secret (Stripe's scheme), POST it to APP_URL +
        /api/webhooks/test through the transport and return the status code; its errors are raised."""
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, self.webhook_secret)}
        return self.transport(self.app_url + WEBHOOK_PATH, body, headers)

    def refund(self, *, payment_intent_id: str, amount: int, currency: str, idempotency_key: str) -> RefundResult:
        """Every refund succeeds at once. The id follows from the idempotency key, as Stripe
        answers a repeated key with the refund it made the first time."""
        digest = hashlib.sha256(f"{payment_intent_id}:{idempotency_key}".encode()).hexdigest()[:24]
        return RefundResult("re_test_" + digest, "succeeded")

    def create_payout(self, *, amount: int, currency: str, routing_number: str, account_number: str,
                      idempotency_key: str, metadata: dict | None = None) -> PayoutResult:
        """Stripe's test bank accounts decide the outcome (checkie.providers.test_payouts); the
        same key answers the first result without paying again. The metadata is not kept: this
        provider sends no payout events that would need it."""
        return test_payouts.pay_once(amount=amount, currency=currency, account_number=account_number,
                                     idempotency_key=idempotency_key)


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
    """A Stripe-shaped event about one payment intent (amount in minor units, currency lower
    case), or about a setup intent (`seti_…`: no amount, `last_setup_error`)."""
    status = {
        SUCCEEDED: "succeeded", PAYMENT_FAILED: "requires_payment_method", REQUIRES_ACTION: "requires_action",
        SETUP_SUCCEEDED: "succeeded", SETUP_FAILED: "requires_payment_method", SETUP_REQUIRES_ACTION: "requires_action",
    }
    if intent_id.startswith("seti_"):
        setup: dict = {
            "id": intent_id,
            "object": "setup_intent",
            "status": status.get(event_type, "processing"),
            "usage": "off_session",
            "metadata": dict(metadata),
            "last_setup_error": {"code": error[0], "message": error[1]} if error else None,
            "next_action": (
                {"type": "redirect_to_url", "redirect_to_url": {"url": next_action_url}} if next_action_url else None
            ),
        }
        return _event(event_type, setup)
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
    return _event(event_type, intent)


def _event(event_type: str, obj: dict) -> dict:
    return {
        "id": "evt_test_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def authentication_event(outcome: str, *, intent_id: str, amount: int, currency: str, metadata: dict) -> dict:
    """The event that reports the shopper's answer on the 3DS page: `complete` → the intent
    succeeds, `fail` → it fails with `authentication_failed`. Only the event says so, as with Stripe."""
    intent: _Intent = {"intent_id": intent_id, "amount": amount, "currency": currency, "metadata": metadata}
    setup = intent_id.startswith("seti_")
    if outcome == "complete":
        return build_event(SETUP_SUCCEEDED if setup else SUCCEEDED, **intent)
    if outcome == "fail":
        return build_event(SETUP_FAILED if setup else PAYMENT_FAILED, **intent, error=AUTHENTICATION_FAILED)
    raise ValueError(f"unknown authentication outcome {outcome!r}")
