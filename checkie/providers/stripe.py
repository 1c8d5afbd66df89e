"""The Stripe seam: the only module that imports `stripe` (STYLE).

For now it holds Stripe's webhook signing scheme, which the test provider uses too:
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""
from __future__ import annotations

import time

import stripe

from checkie import money
from checkie.inputs import loads_json
from checkie.providers.base import IntentEvent, InvalidPayload, InvalidSignature

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
