"""Both webhook signatures of SPEC §7 (issue 11, Delivery), checked by the receivers'
libraries themselves: `stripe.WebhookSignature.verify_header` and `standardwebhooks`."""
from __future__ import annotations

import base64
import time

import pytest
import stripe
from standardwebhooks import Webhook, WebhookVerificationError

from checkie.webhooks.signing import new_secret, signature_headers

BODY = b'{"id":"evt_1","type":"payment.completed","createdAt":"2026-12-07T19:40:00Z","data":{"amount":1250,"note":"caf\xc3\xa9"}}'
TOLERANCE = 300


def verified_by_stripe(body: bytes, headers: dict[str, str], secret: str) -> bool:
    try:
        return stripe.WebhookSignature.verify_header(body, headers["X-Webhook-Signature"], secret, TOLERANCE)
    except stripe.SignatureVerificationError:
        return False


def verified_by_standard_webhooks(body: bytes, headers: dict[str, str], secret: str) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_a_new_secret_is_whsec_and_24_random_bytes_in_base64():
    secret = new_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert new_secret() != secret


def test_one_secret_signs_both_schemes_and_both_libraries_accept():
    secret = new_secret()
    now = int(time.time())

    headers = signature_headers("evt_1", BODY, [secret], timestamp=now)

    assert headers["X-Webhook-Id"] == headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(now)
    assert headers["X-Webhook-Signature"].startswith(f"t={now},v1=")
    assert headers["webhook-signature"].startswith("v1,")
    assert verified_by_stripe(BODY, headers, secret)
    assert verified_by_standard_webhooks(BODY, headers, secret)


def test_during_a_rotation_both_secrets_verify_with_both_libraries():
    current, previous = new_secret(), new_secret()

    headers = signature_headers("evt_2", BODY, [current, previous], timestamp=int(time.time()))

    assert headers["X-Webhook-Signature"].count("v1=") == 2
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (current, previous):
        assert verified_by_stripe(BODY, headers, secret)
        assert verified_by_standard_webhooks(BODY, headers, secret)
    # the current secret signs first
    only_current = signature_headers("evt_2", BODY, [current], timestamp=int(headers["webhook-timestamp"]))
    assert headers["X-Webhook-Signature"].startswith(only_current["X-Webhook-Signature"])
    assert headers["webhook-signature"].startswith(only_current["webhook-signature"])


def test_a_tampered_body_or_another_secret_fails_both_checks():
    secret = new_secret()
    headers = signature_headers("evt_3", BODY, [secret], timestamp=int(time.time()))
    tampered = BODY.replace(b"1250", b"9250")

    assert not verified_by_stripe(tampered, headers, secret)
    assert not verified_by_standard_webhooks(tampered, headers, secret)
    assert not verified_by_stripe(BODY, headers, new_secret())
    assert not verified_by_standard_webhooks(BODY, headers, new_secret())


def test_each_attempt_signs_afresh_with_its_own_timestamp():
    secret = new_secret()
    first = signature_headers("evt_4", BODY, [secret], timestamp=int(time.time()) - 60)
    second = signature_headers("evt_4", BODY, [secret], timestamp=int(time.time()))

    assert first["webhook-id"] == second["webhook-id"] == "evt_4"
    assert first["X-Webhook-Signature"] != second["X-Webhook-Signature"]
    assert first["webhook-signature"] != second["webhook-signature"]
    assert verified_by_stripe(BODY, second, secret) and verified_by_standard_webhooks(BODY, second, secret)


def test_an_old_timestamp_is_refused_by_both_libraries():
    secret = new_secret()
    headers = signature_headers("evt_5", BODY, [secret], timestamp=int(time.time()) - 3600)

    assert not verified_by_stripe(BODY, headers, secret)
    assert not verified_by_standard_webhooks(BODY, headers, secret)


def test_signing_without_a_secret_is_a_programming_error():
    with pytest.raises(ValueError):
        signature_headers("evt_6", BODY, [], timestamp=int(time.time()))
