"""The Stripe seam: the only module that imports `stripe` (STYLE).

It holds Stripe's webhook signing scheme, which the test provider uses too
(`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`),
and `StripeProvider`, the payment provider protocol (checkie.providers.base) over the official
SDK: one `stripe.StripeClient` per provider, so no key or API base is ever set globally."""
from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import stripe

from checkie import money
from checkie.inputs import id_in, loads_json
from checkie.providers.base import (
    IntentEvent,
    IntentResult,
    InvalidPayload,
    InvalidSignature,
    Mode,
    PayoutResult,
    ProviderError,
    RefundResult,
)

if TYPE_CHECKING:
    from stripe.params import (
        CustomerCreateParams,
        PaymentIntentCreateParams,
        PayoutCreateParams,
        RefundCreateParams,
        SetupIntentCreateParams,
    )

#: Seconds a signature stays acceptable (Stripe's default tolerance), in both directions: a
#: timestamp this far ahead of our clock is no more trustworthy than one this old.
SIGNATURE_TOLERANCE = 300

SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
REQUIRES_ACTION = "payment_intent.requires_action"
#: A setup intent saves a card without charging it (a subscription's free trial).
SETUP_SUCCEEDED = "setup_intent.succeeded"
SETUP_FAILED = "setup_intent.setup_failed"
SETUP_REQUIRES_ACTION = "setup_intent.requires_action"
SETUP_EVENTS = frozenset({SETUP_SUCCEEDED, SETUP_FAILED, SETUP_REQUIRES_ACTION})
#: The event types Checkie acts on; any other is stored and ignored.
INTENT_EVENTS = frozenset({SUCCEEDED, PAYMENT_FAILED, REQUIRES_ACTION}) | SETUP_EVENTS
#: Stripe accepts a payout (pending, in transit) and reports its outcome later, days later for a
#: failure, even of a payout it had reported paid.
PAYOUT_PAID = "payout.paid"
PAYOUT_FAILED = "payout.failed"
PAYOUT_EVENTS = frozenset({PAYOUT_PAID, PAYOUT_FAILED})


def sign_payload(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload` (now, unless `timestamp` is given)."""
    return stripe.WebhookSignature.generate_signature_header(payload.decode("utf-8"), secret, timestamp=timestamp)


def verify_signature(payload: bytes, signature_header: str | None, secret: str) -> None:
    """Raise InvalidSignature unless `signature_header` signs `payload` with `secret` within the tolerance."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, SIGNATURE_TOLERANCE)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature("The webhook signature is invalid or too old.") from exc
    # The SDK only refuses old timestamps; a signed header is well formed, so `t=` is there.
    if _signed_at(signature_header or "") > time.time() + SIGNATURE_TOLERANCE:
        raise InvalidSignature("The webhook signature is dated in the future.")


def _signed_at(signature_header: str) -> int:
    stamps = [item[2:] for item in signature_header.split(",") if item.startswith("t=")]
    return int(stamps[0]) if stamps and stamps[0].isdigit() else 0


def parse_event(payload: bytes, signature_header: str | None, secret: str) -> dict:
    """Verify, then decode a Stripe-shaped event; raises InvalidSignature or InvalidPayload."""
    verify_signature(payload, signature_header, secret)
    try:
        # The same refusals as any request body: too deep, NUL characters, lone surrogates, NaN.
        event = loads_json(payload)
    except ValueError:
        raise InvalidPayload("The webhook body is not JSON that Checkie can store.") from None
    if not isinstance(event, dict) or not _is_text(event.get("id"), 255) or not _is_text(event.get("type"), 100):
        raise InvalidPayload("The webhook body is not an event (it needs an id and a type).")
    return event


def read_intent_event(event: dict) -> IntentEvent | None:
    """The payment intent a verified event is about, or None for a type Checkie ignores.

    A PSP retries whatever it is not answered 2xx for, so a signed event of the wrong shape
    must fail here, as InvalidPayload (400, nothing stored), not deep in the payment code."""
    if event["type"] not in INTENT_EVENTS:
        return None
    data = event.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    if not isinstance(intent, dict) or not _is_text(intent.get("id"), 255):
        raise _malformed(event, "carries no payment intent")
    if event["type"] in SETUP_EVENTS:
        return _setup_event(event, intent)
    amount, currency, metadata = intent.get("amount"), intent.get("currency"), intent.get("metadata") or {}
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= money.MAX_AMOUNT:
        raise _malformed(event, f"needs an amount in minor units from 1 to {money.MAX_AMOUNT}")
    if not isinstance(currency, str) or not money.is_currency(currency):
        raise _malformed(event, "needs a supported ISO-4217 currency")
    if not isinstance(metadata, dict) or not all(_is_text(v, 500) for v in metadata.values()):
        raise _malformed(event, "needs metadata whose values are strings")
    error = _object_or_none(event, intent, "last_payment_error")
    redirect = _object_or_none(event, _object_or_none(event, intent, "next_action"), "redirect_to_url")
    return IntentEvent(
        type=event["type"], intent_id=intent["id"], amount=amount, currency=currency.lower(), metadata=metadata,
        failure_code=_text_or_none(event, error, "code"), failure_message=_text_or_none(event, error, "message"),
        next_action_url=_text_or_none(event, redirect, "url"),
    )


@dataclass(frozen=True)
class PayoutEvent:
    """What a Stripe payout event says: which payout (Stripe's id), and why it failed."""

    type: str
    payout_id: str
    failure_code: str | None = None
    #: Checkie's own payout id from the payout's metadata (`payout_id`), when it is one: the
    #: payout is found by it when the event outruns the task that records Stripe's id.
    checkie_payout_id: int | None = None


def read_payout_event(event: dict) -> PayoutEvent | None:
    """The payout a verified event reports on, or None for a type that is not a payout's outcome.
    A malformed one is InvalidPayload (400, nothing stored), as for intent events."""
    if event["type"] not in PAYOUT_EVENTS:
        return None
    data = event.get("data")
    payout = data.get("object") if isinstance(data, dict) else None
    if not isinstance(payout, dict) or not _is_text(payout.get("id"), 100):
        raise _malformed(event, "carries no payout")
    failure_code = _text_or_none(event, payout, "failure_code")
    if failure_code is not None and not _is_text(failure_code, 100):
        raise _malformed(event, "has a failure_code longer than 100 characters")
    metadata = payout.get("metadata")
    checkie_id = id_in(metadata.get("payout_id")) if isinstance(metadata, dict) else None
    if event["type"] == PAYOUT_FAILED:
        # Stripe always names the reason; a failure without one is still a failure.
        return PayoutEvent(PAYOUT_FAILED, payout["id"], failure_code or "payout_failed", checkie_id)
    return PayoutEvent(PAYOUT_PAID, payout["id"], checkie_payout_id=checkie_id)


def _setup_event(event: dict, intent: dict) -> IntentEvent:
    """A setup intent's event: no money moves, so amount 0 and no currency."""
    metadata = intent.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(_is_text(v, 500) for v in metadata.values()):
        raise _malformed(event, "needs metadata whose values are strings")
    error = _object_or_none(event, intent, "last_setup_error")
    redirect = _object_or_none(event, _object_or_none(event, intent, "next_action"), "redirect_to_url")
    return IntentEvent(
        type=event["type"], intent_id=intent["id"], amount=0, currency="", metadata=metadata,
        failure_code=_text_or_none(event, error, "code"), failure_message=_text_or_none(event, error, "message"),
        next_action_url=_text_or_none(event, redirect, "url"),
    )


def _object_or_none(event: dict, parent: dict, key: str) -> dict:
    value = parent.get(key)
    if value is not None and not isinstance(value, dict):
        raise _malformed(event, f"has a {key} that is not an object")
    return value or {}


def _text_or_none(event: dict, parent: dict, key: str) -> str | None:
    value = parent.get(key)
    if value is not None and not (isinstance(value, str) and len(value) <= 2000):
        raise _malformed(event, f"has a {key} that is not a string")
    return value


def _is_text(value: object, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length


def _malformed(event: dict, problem: str) -> InvalidPayload:
    return InvalidPayload(f"The {event['type']} event {problem}.")


#: Stripe PaymentMethod ids (`pm_…`, Stripe's test ones included), or the single-use card token
#: (`tok_…`) Stripe.js makes from its card Element: a card number never reaches Checkie.
PAYMENT_METHOD_ID = re.compile(r"(?:pm|tok)_[A-Za-z0-9_]{1,250}")
#: (connect, read) seconds: a checkout waits on Stripe inside a web request, never for minutes.
REQUEST_TIMEOUT = (5.0, 30.0)
#: The Stripe API version every request names. Not the SDK's own pin: from 2026-09-30.endive on,
#: Stripe refuses `payment_method_types` (`payment_method_types_no_longer_supported`) in favour of
#: `allowed_payment_method_types`, which localstripe does not know; this version takes the former,
#: so the same requests work against Stripe and its local fake. Responses are read as plain dicts,
#: never through the SDK's typed attributes, which follow the SDK's newer version.
STRIPE_API_VERSION = "2025-10-29.clover"
#: Stripe's answer to an off-session charge of a card that needs the customer to authenticate.
AUTHENTICATION_REQUIRED = ("authentication_required", "The card needs the customer to authenticate this payment.")


class StripeProvider:
    """`PaymentProvider` over Stripe's API (or a fake of it at `api_base`, such as localstripe).

    Intents are created with `payment_method_types=["card"]` and confirmed in a second call, so
    the intent's id is known even when the confirmation is a decline. Without a payment method
    the intent is only created: the browser confirms it with Stripe.js (`confirmCardPayment`),
    which the answer's `client_secret` is for. Every mutating call sends an idempotency key."""

    name = "stripe"
    payment_method_hint = (
        "Send a Stripe PaymentMethod id (pm_…), or none and confirm the payment in the browser with Stripe.js."
    )

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None, *,
                 http_client: stripe.HTTPClient | None = None):
        """`http_client` replaces the SDK's HTTP layer (tests replay recorded Stripe answers with it)."""
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else {},
            stripe_version=STRIPE_API_VERSION,
            http_client=http_client or stripe.RequestsClient(timeout=REQUEST_TIMEOUT),
        )

    def accepts_payment_method(self, payment_method: str | None) -> bool:
        return payment_method is None or bool(PAYMENT_METHOD_ID.fullmatch(payment_method))

    def create_payment_intent(self, *, amount: int, currency: str, metadata: dict, payment_method: str | None) -> IntentResult:
        """Create the intent, then confirm it with `payment_method`: succeeded, requires_action
        (3-D Secure, which Stripe.js runs with the client secret; or no payment method yet), or
        failed with Stripe's decline code. A card token from Stripe.js is saved to a new Customer
        first (`_saved_card`), and the intent charges that card."""
        key = intent_idempotency_key("payment_intent", metadata)
        params: dict = {"amount": amount, "currency": currency.lower(), "payment_method_types": ["card"],
                        "metadata": dict(metadata)}
        with _provider_errors():
            try:
                saved = self._saved_card(payment_method, metadata, key)
            except stripe.CardError as exc:
                return _declined("", exc)
            params.update(saved.intent_params)
            intent = self.client.v1.payment_intents.create(
                params=cast("PaymentIntentCreateParams", params), options={"idempotency_key": key + ":create"},
            )
            if saved.payment_method is None:
                return _intent_result(intent.to_dict())
            try:
                confirmed = self.client.v1.payment_intents.confirm(intent.id, options={"idempotency_key": key + ":confirm"})
            except stripe.CardError as exc:
                return saved.onto(_declined(intent.id, exc))
        return saved.onto(_intent_result(confirmed.to_dict()))

    def create_setup_intent(self, *, metadata: dict, payment_method: str | None) -> IntentResult:
        """Save `payment_method` for off-session charges without charging it (a free trial):
        a SetupIntent with `usage="off_session"`, created then confirmed like a payment intent."""
        key = intent_idempotency_key("setup_intent", metadata)
        params: dict = {"usage": "off_session", "payment_method_types": ["card"], "metadata": dict(metadata)}
        with _provider_errors():
            try:
                saved = self._saved_card(payment_method, metadata, key)
            except stripe.CardError as exc:
                return _declined("", exc)
            if saved.customer_id:
                params["customer"] = saved.customer_id
            setup = self.client.v1.setup_intents.create(
                params=cast("SetupIntentCreateParams", params), options={"idempotency_key": key + ":create"},
            )
            if saved.payment_method is None:
                return _intent_result(setup.to_dict())
            try:
                confirmed = self.client.v1.setup_intents.confirm(
                    setup.id, params={"payment_method": saved.payment_method}, options={"idempotency_key": key + ":confirm"},
                )
            except stripe.CardError as exc:
                return saved.onto(_declined(setup.id, exc))
        return saved.onto(_intent_result(confirmed.to_dict()))

    def _saved_card(self, payment_method: str | None, metadata: dict, key: str) -> SavedCard:
        """A PaymentMethod id is used as it is. A card token (`tok_…`, what Stripe.js's
        `createToken` makes from the card Element) can be used once only, so it is saved to a
        new Customer and the intent charges that customer's card: the same card then pays the
        renewals of a subscription bought with it. Raises stripe.CardError for a card Stripe
        declines as it is saved."""
        if payment_method is None or not payment_method.startswith("tok_"):
            return SavedCard(payment_method, None)
        customer = self.client.v1.customers.create(
            params={"metadata": {"store_id": str(metadata.get("store_id", ""))}},
            options={"idempotency_key": key + ":customer"},
        )
        card = self.client.v1.customers.payment_sources.create(
            customer.id, params={"source": payment_method}, options={"idempotency_key": key + ":card"},
        )
        return SavedCard(card.id, customer.id)

    def check_connection(self) -> Mode:
        """Ask Stripe for the account's balance, which any working secret key may read: ProviderError
        when the key is wrong or revoked (or Stripe unreachable), else whether the key is live."""
        with _provider_errors():
            balance = self.client.v1.balance.retrieve().to_dict()
        return "live" if balance.get("livemode") else "test"

    def create_customer(self, *, email: str, name: str | None, metadata: dict) -> str:
        """A Stripe Customer. The key follows from the store and the buyer (hashed: no address in
        a header), so a transaction retried within Stripe's 24 hours finds the same customer."""
        digest = hashlib.sha256(f"{metadata.get('store_id')}:{email}:{name or ''}".encode()).hexdigest()[:32]
        params: CustomerCreateParams = {"email": email, "metadata": dict(metadata)}
        if name:
            params["name"] = name
        with _provider_errors():
            customer = self.client.v1.customers.create(params=params, options={"idempotency_key": f"checkie-customer-{digest}"})
        return customer.id

    def charge_customer(self, *, customer_id: str, payment_method: str, amount: int, currency: str, metadata: dict,
                        idempotency_key: str) -> IntentResult:
        """An off-session PaymentIntent, created and confirmed at once, for the saved card. A card
        that asks for authentication fails with `authentication_required`: no one is there to answer."""
        params = {
            "amount": amount, "currency": currency.lower(), "customer": customer_id, "payment_method": payment_method,
            "payment_method_types": ["card"], "metadata": dict(metadata), "confirm": True, "off_session": True,
        }
        with _provider_errors():
            try:
                intent = self.client.v1.payment_intents.create(
                    params=cast("PaymentIntentCreateParams", params), options={"idempotency_key": idempotency_key},
                )
            except stripe.CardError as exc:
                return _declined(_error_intent_id(exc), exc)
        result = _intent_result(intent.to_dict())
        if result.status == "requires_action":
            code, message = AUTHENTICATION_REQUIRED
            return IntentResult(result.intent_id, "failed", failure_code=code, failure_message=message)
        return result

    def verify_webhook(self, payload: bytes, signature_header: str) -> dict:
        """Stripe's signature check (`stripe.WebhookSignature`, what `stripe.Webhook.construct_event`
        runs), then the same shape checks as every PSP event (parse_event)."""
        return parse_event(payload, signature_header, self.webhook_secret)

    def refund(self, *, payment_intent_id: str, amount: int, currency: str, idempotency_key: str) -> RefundResult:
        """A Refund of `amount` minor units of the intent's charge (Stripe refunds in the charge's
        currency). `pending` counts as made: Stripe reports a later failure as `refund.failed`."""
        params: RefundCreateParams = {"payment_intent": payment_intent_id, "amount": amount}
        with _provider_errors():
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key}).to_dict()
        if refund.get("status") in ("failed", "canceled"):
            return RefundResult(refund["id"], "failed", failure_code=refund.get("failure_reason") or refund.get("status"))
        return RefundResult(refund["id"], "succeeded")

    def create_payout(self, *, amount: int, currency: str, routing_number: str, account_number: str,
                      idempotency_key: str, metadata: dict | None = None) -> PayoutResult:
        """A Payout to the Stripe account's bank account. Stripe pays the account registered with it,
        so the numbers are not sent (only the account's last four digits, in metadata, for people
        reading Stripe's dashboard, beside the caller's `metadata`: the store's id, which chooses
        the secret its events are verified with). A payout Stripe accepted (pending, in transit)
        counts as paid: the protocol has no pending state, and Stripe reports the outcome later as
        `payout.paid` or `payout.failed` (read_payout_event)."""
        params: PayoutCreateParams = {
            "amount": amount, "currency": currency.lower(),
            "metadata": {**(metadata or {}), "account_last4": account_number[-4:]},
        }
        with _provider_errors():
            payout = self.client.v1.payouts.create(params=params, options={"idempotency_key": idempotency_key}).to_dict()
        if payout.get("status") in ("failed", "canceled"):
            return PayoutResult(payout["id"], "failed", failure_code=payout.get("failure_code") or payout.get("status"))
        return PayoutResult(payout["id"], "paid")


@dataclass(frozen=True)
class SavedCard:
    """What an intent charges: `payment_method` (None: Stripe.js supplies it), and the customer
    it was saved to when it came as a token."""

    payment_method: str | None
    customer_id: str | None

    @property
    def intent_params(self) -> dict:
        params: dict = {}
        if self.payment_method is not None:
            params["payment_method"] = self.payment_method
        if self.customer_id is not None:
            params["customer"] = self.customer_id
        return params

    def onto(self, result: IntentResult) -> IntentResult:
        """`result` naming the saved card and its customer, when there is one."""
        if self.customer_id is None:
            return result
        return replace(result, payment_method=self.payment_method, customer_id=self.customer_id)


def intent_idempotency_key(kind: str, metadata: dict) -> str:
    """`checkie-<kind>-<checkout session id>-<attempt>` when the metadata names both, so a request
    Checkie repeats for the same attempt creates one intent, while the next attempt (a retry
    after a decline) gets a new one. Without them, a fresh key: the SDK's own network retries
    still resend it, which is all an unnamed request can be protected by."""
    session, attempt = metadata.get("checkout_session_id"), metadata.get("attempt")
    if session and attempt:
        return f"checkie-{kind}-{session}-{attempt}"
    return f"checkie-{kind}-{uuid.uuid4().hex}"


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Any Stripe error that is not a card's decline becomes ProviderError (with Stripe's error
    class and code, never the key); a CardError the caller did not catch is one too."""
    try:
        yield
    except stripe.StripeError as exc:
        detail = f" ({exc.code})" if exc.code else ""
        raise ProviderError(f"Stripe refused the request: {type(exc).__name__}{detail}.") from exc


def _intent_result(intent: dict) -> IntentResult:
    """A PaymentIntent's or SetupIntent's state as the protocol's three outcomes. An intent that
    still waits for a payment method, or for Stripe.js to act on it (3-D Secure, `use_stripe_sdk`),
    is requires_action with its client secret; one that lost its method to an error has failed."""
    status, intent_id = intent.get("status"), intent["id"]
    error = intent.get("last_payment_error") or intent.get("last_setup_error") or {}
    if status == "succeeded":
        return IntentResult(intent_id, "succeeded", client_secret=intent.get("client_secret"))
    if status == "canceled" or error:
        return IntentResult(intent_id, "failed", failure_code=error.get("code") or status,
                            failure_message=error.get("message"))
    redirect = (intent.get("next_action") or {}).get("redirect_to_url") or {}
    return IntentResult(intent_id, "requires_action", client_secret=intent.get("client_secret"),
                        next_action_url=redirect.get("url"))


def _declined(intent_id: str, exc: stripe.CardError) -> IntentResult:
    return IntentResult(intent_id, "failed", failure_code=exc.code or "card_declined",
                        failure_message=exc.user_message or str(exc))


def _error_intent_id(exc: stripe.CardError) -> str:
    """The declined intent's id, which Stripe puts in the error (`error.payment_intent`). Fakes
    that leave it out (localstripe) give "" : the caller records the decline without an id."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    intent = error.get("payment_intent") if isinstance(error, dict) else None
    return intent.get("id", "") if isinstance(intent, dict) else ""
