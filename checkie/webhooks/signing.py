"""The two signatures every webhook delivery carries (SPEC §7), so a merchant can check it
with the library they already have: Stripe's scheme (`X-Webhook-Signature`, checked by
`stripe.WebhookSignature.verify_header`) and Standard Webhooks (`webhook-signature`, made and
checked by the `standardwebhooks` package). During a secret rotation the old secret signs
too, one signature per secret, the current one first, so receivers can switch at their pace.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_source
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_RANDOM_BYTES = 24


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks
    form, whose key is the decoded bytes; Stripe's scheme keys with the whole string)."""
    return SECRET_PREFIX + base64.b64encode(random_source.token_bytes(SECRET_RANDOM_BYTES)).decode("ascii")


def signature_headers(event_id: str, body: bytes, secrets: list[str], *, timestamp: int) -> dict[str, str]:
    """The headers that sign `body` for one attempt at `timestamp` (unix seconds); `secrets`
    holds the current secret first, then any still-valid previous one."""
    if not secrets:
        raise ValueError("a delivery needs at least one secret to sign with")
    return {
        "X-Webhook-Id": event_id,
        "X-Webhook-Signature": stripe_style_signature(body, secrets, timestamp=timestamp),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(event_id, body, secrets, timestamp=timestamp),
    }


def stripe_style_signature(body: bytes, secrets: list[str], *, timestamp: int) -> str:
    """`t=<timestamp>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 of `"<t>.<body>"` keyed by each whole secret string."""
    signed = f"{timestamp}.".encode() + body
    digests = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])


def standard_webhooks_signature(event_id: str, body: bytes, secrets: list[str], *, timestamp: int) -> str:
    """`v1,<base64> v1,<base64>…`, one per secret, made by the `standardwebhooks` package (the
    body is JSON, so UTF-8 text, which is what the package signs)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode("utf-8")
    return " ".join(Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=text) for secret in secrets)
