"""The built-in test provider: outcomes per test payment method, the 3DS amount rule, card
mapping, and the Stripe-shaped events it reports, which the platform delivers to
/api/webhooks/test (tests/payments/test_test_provider_events.py has the outbox itself)."""
from __future__ import annotations

import pytest

from checkie.payments.models import ProviderEvent
from checkie.payments.test_provider import record_events
from checkie.providers import ProviderNotConfigured, by_name, for_store
from checkie.providers.test import TestProvider, map_test_card, post_over_network
from tests.psp import record_outcomes


@pytest.fixture
def outcomes(monkeypatch):
    return record_outcomes(monkeypatch)


METADATA = {"checkout_session_id": "cs_abc", "store_id": "7"}


def create(db, payment_method, *, amount=2500, currency="USD"):
    """As initiate_payment does: ask for an intent, record the events it reports, commit."""
    result = by_name("test").create_payment_intent(
        amount=amount, currency=currency, metadata=METADATA, payment_method=payment_method
    )
    record_events(db, result.events)
    db.commit()  # the outcome's event leaves after commit (Huey is immediate in tests)
    return result


def test_for_store_uses_the_platform_default(app, db, store):
    assert isinstance(for_store(store), TestProvider)
    assert for_store(store).name == "test"


def test_stripe_is_not_available_yet(app, db, store):
    app.config["PAYMENT_PROVIDER"] = "stripe"
    try:
        with pytest.raises(ProviderNotConfigured, match="Stripe"):
            for_store(store)
    finally:
        app.config["PAYMENT_PROVIDER"] = "test"


def test_the_test_provider_is_refused_where_it_is_off(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    with pytest.raises(ProviderNotConfigured, match="not enabled"):
        by_name("test")


def test_visa_succeeds_and_reports_it(db, outcomes):
    result = create(db, "pm_card_visa")
    assert result.status == "succeeded"
    assert result.intent_id.startswith("pi_test_")
    assert result.client_secret.startswith(result.intent_id + "_secret_")
    assert (result.next_action_url, result.failure_code) == (None, None)
    assert outcomes.calls == [
        ("payment_succeeded", {"provider": "test", "intent_id": result.intent_id, "amount": 2500, "currency": "usd", "metadata": METADATA})
    ]


@pytest.mark.parametrize(
    ("method", "code"),
    [("pm_card_chargeDeclined", "card_declined"), ("pm_card_insufficientFunds", "insufficient_funds"),
     ("pm_card_bogus", "invalid_payment_method"), (None, "invalid_payment_method")],
)
def test_declines_fail_with_their_code(db, outcomes, method, code):
    result = create(db, method)
    assert result.status == "failed"
    assert result.failure_code == code
    assert result.failure_message
    assert outcomes.calls == [
        ("payment_failed", {"provider": "test", "intent_id": result.intent_id, "code": code, "message": result.failure_message})
    ]


def test_three_d_secure_card_requires_action(db, outcomes):
    result = create(db, "pm_card_threeDSecureRequired")
    assert result.status == "requires_action"
    assert result.next_action_url == f"http://localhost/test-provider/3ds/{result.action_token}"
    assert outcomes.calls == [
        ("payment_requires_action", {"provider": "test", "intent_id": result.intent_id, "next_action_url": result.next_action_url})
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "status"),
    [
        (10000, "USD", "succeeded"),  # 100.00 exactly: no authentication
        (10001, "USD", "requires_action"),  # 100.01
        (100, "JPY", "succeeded"),
        (101, "JPY", "requires_action"),  # zero-decimal currency: 101 major units
        (100000, "BHD", "succeeded"),  # three decimals: 100.000
        (100001, "BHD", "requires_action"),
    ],
)
def test_amounts_over_100_major_units_require_authentication(db, outcomes, amount, currency, status):
    result = create(db, "pm_card_visa", amount=amount, currency=currency)
    assert result.status == status
    assert outcomes.calls[0][1].get("amount", amount) == amount


def test_declines_decline_whatever_the_amount(db, outcomes):
    assert create(db, "pm_card_chargeDeclined", amount=50000).failure_code == "card_declined"


def test_the_event_is_stripe_shaped_and_arrives_through_the_http_intake(db, outcomes):
    result = create(db, "pm_card_insufficientFunds", amount=1999, currency="EUR")
    stored = db.query(ProviderEvent).one()
    assert (stored.provider, stored.type) == ("test", "payment_intent.payment_failed")
    assert stored.event_id.startswith("evt_test_") and stored.processed_at is not None
    event = stored.payload
    assert isinstance(event["created"], int)
    intent = event["data"]["object"]
    assert intent["id"] == result.intent_id
    assert intent["object"] == "payment_intent"
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (1999, "eur", METADATA)
    assert intent["last_payment_error"]["code"] == "insufficient_funds"


def test_requires_action_event_carries_the_redirect(db, outcomes):
    result = create(db, "pm_card_visa", amount=20000)
    intent = db.query(ProviderEvent).one().payload["data"]["object"]
    assert intent["status"] == "requires_action"
    assert intent["next_action"]["redirect_to_url"]["url"] == result.next_action_url


def test_each_3ds_step_gets_its_own_unguessable_token(db, outcomes):
    tokens = {create(db, "pm_card_threeDSecureRequired").action_token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 32 for token in tokens)  # 24 random bytes in URL-safe base64: 192 bits


def test_only_authentication_hands_out_a_token(db, outcomes):
    assert create(db, "pm_card_visa").action_token is None
    assert create(db, "pm_card_chargeDeclined").action_token is None


def test_a_refused_post_reports_the_status(app, db, outcomes):
    assert by_name("test").post_event({"id": "evt_test_no_type"}) == 400  # the intake refuses it
    assert db.query(ProviderEvent).count() == 0


def test_events_go_through_the_transport_the_provider_is_handed(app):
    """Nothing in checkie/ knows the test client: the app's TEST_PROVIDER_TRANSPORT (set by the
    test suite) is handed to the provider, and a provider built without one uses the network."""
    sent = []

    def transport(url, body, headers):
        sent.append((url, body, headers))
        return 202

    provider = TestProvider(app_url="https://shop.example/", webhook_secret="whsec_x", transport=transport)
    assert provider.post_event({"id": "evt_test_1"}) == 202
    ((url, body, headers),) = sent
    assert url == "https://shop.example/api/webhooks/test" and body == b'{"id":"evt_test_1"}'
    assert headers["Stripe-Signature"].startswith("t=")
    assert TestProvider(app_url="x", webhook_secret="y").transport is post_over_network
    with app.app_context():
        assert by_name("test").transport is app.config["TEST_PROVIDER_TRANSPORT"]


@pytest.mark.parametrize(
    ("number", "method"),
    [
        ("4242424242424242", "pm_card_visa"),
        ("4242 4242 4242 4242", "pm_card_visa"),
        ("4000 0000 0000 0002", "pm_card_chargeDeclined"),
        ("4000000000009995", "pm_card_insufficientFunds"),
        (" 4000 0027 6000 3184 ", "pm_card_threeDSecureRequired"),
    ],
)
def test_test_cards_map_to_payment_methods(number, method):
    assert map_test_card(number) == method


@pytest.mark.parametrize("number", ["4111111111111111", "5555555555554444", "424242424242424", "", "pm_card_visa", "4242-4242-4242-4242x"])
def test_other_card_numbers_are_refused(number):
    assert map_test_card(number) is None


def test_refunds_succeed_at_once_and_a_repeated_key_answers_the_same_refund(db):
    provider = by_name("test")
    first = provider.refund(payment_intent_id="pi_test_1", amount=500, currency="usd", idempotency_key="refund_1")
    again = provider.refund(payment_intent_id="pi_test_1", amount=500, currency="usd", idempotency_key="refund_1")
    other = provider.refund(payment_intent_id="pi_test_1", amount=500, currency="usd", idempotency_key="refund_2")
    assert (first.status, first.failure_code) == ("succeeded", None)
    assert first.refund_id.startswith("re_test_") and again.refund_id == first.refund_id != other.refund_id
