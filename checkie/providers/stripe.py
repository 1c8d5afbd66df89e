"""The Stripe seam: the only module that imports `stripe` (STYLE).

For now it holds Stripe's webhook signing scheme, which the test provider uses too:
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""
from __future__ import annotations

import json

import stripe

from checkie.providers.base import InvalidPayload, InvalidSignature

#: Seconds a signature stays acceptable (Stripe's default tolerance).
SIGNATURE_TOLERANCE = 300


def sign_payload(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload` (now, unless `timestamp` is given)."""
    return stripe.WebhookSignature.generate_signature_header(payload.decode("utf-8"), secret, timestamp=timestamp)


def verify_signature(payload: bytes, signature_header: str | None, secret: str) -> None:
    """Raise InvalidSignature unless `signature_header` signs `payload` with `secret` within the tolerance."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, SIGNATURE_TOLERANCE)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature("The webhook signature is invalid or too old.") from exc


def parse_event(payload: bytes, signature_header: str | None, secret: str) -> dict:
    """Verify, then decode a Stripe-shaped event; raises InvalidSignature or InvalidPayload."""
    verify_signature(payload, signature_header, secret)
    try:
        event = json.loads(payload)
    except ValueError:
        raise InvalidPayload("The webhook body is not JSON.") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise InvalidPayload("The webhook body is not an event (it needs an id and a type).")
    return event
