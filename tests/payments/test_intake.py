"""PSP webhook intake over HTTP: signatures, storing each event once, dispatching by type."""
from __future__ import annotations

import threading
import time

import pytest

from checkie.extensions import db as _db
from checkie.payments.models import ProviderEvent
from checkie.providers.stripe import sign_payload
from tests.psp import TEST_SECRET, intent_event, record_outcomes, signed_event


@pytest.fixture
def outcomes(monkeypatch):
    return record_outcomes(monkeypatch)


URL = "/api/webhooks/test"


def post(client, event, **signing):
    body, headers = signed_event(event, **signing)
    return client.post(URL, data=body, headers=headers)


def stored(db):
    db.expire_all()
    return db.query(ProviderEvent).all()


def test_a_good_signature_is_stored_dispatched_and_acknowledged(client, db, outcomes):
    event = intent_event("payment_intent.succeeded", amount=1234, metadata={"checkout_session_id": "cs_x", "store_id": "3"})
    response = post(client, event)
    assert response.status_code == 200
    assert response.get_json() == {"received": True}
    [row] = stored(db)
    assert (row.provider, row.event_id, row.type) == ("test", event["id"], "payment_intent.succeeded")
    assert row.payload == event and row.processed_at is not None
    assert outcomes.calls == [
        ("payment_succeeded", {"provider": "test", "intent_id": "pi_test_abc", "amount": 1234, "currency": "usd",
                               "metadata": {"checkout_session_id": "cs_x", "store_id": "3"}})
    ]


def test_failed_and_requires_action_events_reach_their_handlers(client, db, outcomes):
    post(client, intent_event("payment_intent.payment_failed", error=("card_declined", "Your card was declined.")))
    post(client, intent_event("payment_intent.requires_action", next_action_url="http://localhost/test-provider/3ds/5"))
    assert outcomes.calls == [
        ("payment_failed", {"provider": "test", "intent_id": "pi_test_abc", "code": "card_declined", "message": "Your card was declined."}),
        ("payment_requires_action", {"provider": "test", "intent_id": "pi_test_abc", "next_action_url": "http://localhost/test-provider/3ds/5"}),
    ]


def test_a_bad_signature_is_400_and_nothing_is_stored(client, db, outcomes):
    response = post(client, intent_event(), secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert stored(db) == [] and outcomes.calls == []


def test_a_tampered_body_is_400(client, db, outcomes):
    body, headers = signed_event(intent_event(amount=100))
    response = client.post(URL, data=body.replace(b'"amount": 100', b'"amount": 1'), headers=headers)
    assert response.status_code == 400
    assert stored(db) == [] and outcomes.calls == []


def test_a_missing_signature_is_400(client, db, outcomes):
    body, _ = signed_event(intent_event())
    assert client.post(URL, data=body, headers={"Content-Type": "application/json"}).status_code == 400
    assert stored(db) == []


def test_a_signature_older_than_300_seconds_is_400(client, db, outcomes):
    assert post(client, intent_event(), timestamp=int(time.time()) - 301).status_code == 400
    assert stored(db) == [] and outcomes.calls == []
    assert post(client, intent_event(), timestamp=int(time.time()) - 250).status_code == 200


def test_a_signature_dated_more_than_300_seconds_ahead_is_400(client, db, outcomes):
    assert post(client, intent_event(), timestamp=int(time.time()) + 301).status_code == 400
    assert post(client, intent_event(), timestamp=int(time.time()) + 365 * 24 * 3600).status_code == 400
    assert stored(db) == [] and outcomes.calls == []
    assert post(client, intent_event(), timestamp=int(time.time()) + 250).status_code == 200


def _reshaped(change) -> dict:
    event = intent_event()
    change(event, event["data"]["object"])
    return event


MALFORMED = {
    "amount a string": lambda e, i: i.update(amount="abc"),
    "amount null": lambda e, i: i.update(amount=None),
    "amount a float": lambda e, i: i.update(amount=25.0),
    "amount a boolean": lambda e, i: i.update(amount=True),
    "amount negative": lambda e, i: i.update(amount=-1),
    "amount past any real charge": lambda e, i: i.update(amount=10**20),
    "currency of four letters": lambda e, i: i.update(currency="usdx"),
    "currency a number": lambda e, i: i.update(currency=840),
    "metadata a string": lambda e, i: i.update(metadata="cs_test0001"),
    "metadata values not strings": lambda e, i: i.update(metadata={"checkout_session_id": ["cs_test0001"]}),
    "intent id missing": lambda e, i: i.pop("id"),
    "intent a list": lambda e, i: e["data"].update(object=[i]),
    "data a string": lambda e, i: e.update(data="payment_intent"),
    "error a string": lambda e, i: i.update(last_payment_error="card_declined"),
    "error code a number": lambda e, i: i.update(last_payment_error={"code": 51, "message": "no"}),
    "next action a list": lambda e, i: i.update(next_action=["redirect"]),
    "redirect url an object": lambda e, i: i.update(next_action={"type": "redirect_to_url", "redirect_to_url": {"url": {}}}),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action"])
def test_a_signed_event_of_the_wrong_shape_is_400_and_nothing_is_stored(client, db, outcomes, change, event_type):
    event = _reshaped(change)
    event["type"] = event_type
    response = post(client, event)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_payload"
    assert stored(db) == [] and outcomes.calls == []


@pytest.mark.parametrize("body", [
    b'{"id":"evt_1","type":"payment_intent.succeeded","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":' + b"9" * 5000 + b"}}}",
    b'{"id":"evt_\\u0000","type":"payment_intent.succeeded"}',
    b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","description":"\\ud800"}}}',
    b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":NaN}}}',
], ids=["nested 100,000 deep", "amount of 5,000 digits", "a NUL character", "a lone surrogate", "NaN"])
def test_a_signed_body_python_cannot_decode_is_400(client, db, outcomes, body):
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, TEST_SECRET)}
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_payload"
    assert stored(db) == [] and outcomes.calls == []


def test_a_signed_body_that_is_not_an_event_is_400(client, db, outcomes):
    assert post(client, {"type": "payment_intent.succeeded"}).status_code == 400
    assert post(client, ["not", "an", "event"]).status_code == 400
    assert stored(db) == []


def test_a_duplicate_event_is_a_200_no_op(client, db, outcomes):
    event = intent_event()
    assert post(client, event).status_code == 200
    assert post(client, event).status_code == 200
    assert len(stored(db)) == 1
    assert outcomes.names() == ["payment_succeeded"]


def test_the_same_event_id_from_another_provider_is_another_event(app, db, outcomes):
    from checkie.payments.intake import receive_event

    event = intent_event()
    body, headers = signed_event(event, secret="whsec_stripe_for_tests")
    app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_stripe_for_tests"
    try:
        assert receive_event(db, "stripe", body, headers["Stripe-Signature"]) is not None
        body, headers = signed_event(event)
        assert receive_event(db, "test", body, headers["Stripe-Signature"]) is not None
        assert receive_event(db, "test", body, headers["Stripe-Signature"]) is None
        db.commit()
    finally:
        app.config["STRIPE_WEBHOOK_SECRET"] = ""
    assert sorted(row.provider for row in stored(db)) == ["stripe", "test"]


def test_an_unknown_event_type_is_stored_and_ignored(client, db, outcomes):
    response = post(client, {"id": "evt_test_charge", "object": "event", "type": "charge.refund.updated", "data": {"object": {}}})
    assert response.status_code == 200
    [row] = stored(db)
    assert row.type == "charge.refund.updated" and row.processed_at is not None
    assert outcomes.calls == []


def test_two_hundred_concurrent_deliveries_have_one_effect(app, db, outcomes):
    body, headers = signed_event(intent_event())
    start = threading.Barrier(200)
    statuses: list[int] = []

    def deliver():
        with app.app_context():
            client = app.test_client()
            start.wait()
            statuses.append(client.post(URL, data=body, headers=headers).status_code)
            _db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 200
    assert len(stored(db)) == 1
    assert outcomes.names() == ["payment_succeeded"]


def test_stripe_webhooks_are_refused_until_stripe_is_configured(client, db, outcomes):
    response = post(client, intent_event())
    assert response.status_code == 200
    body, headers = signed_event(intent_event())
    response = client.post("/api/webhooks/stripe", data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Stripe is not configured"
    assert len(stored(db)) == 1


def test_stripe_webhooks_verify_with_the_configured_secret(app, client, db, outcomes):
    app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_stripe_for_tests"
    try:
        body, headers = signed_event(intent_event(), secret="whsec_stripe_for_tests")
        assert client.post("/api/webhooks/stripe", data=body, headers=headers).status_code == 200
        body, headers = signed_event(intent_event())  # signed with the test provider's secret
        assert client.post("/api/webhooks/stripe", data=body, headers=headers).status_code == 400
    finally:
        app.config["STRIPE_WEBHOOK_SECRET"] = ""
    [row] = stored(db)
    assert row.provider == "stripe"
    assert outcomes.calls[0][1]["provider"] == "stripe"


def test_the_test_intake_does_not_exist_where_the_test_provider_is_off(app, client, db, outcomes, monkeypatch):
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    response = post(client, intent_event())  # signed with the published default secret
    assert response.status_code == 404
    assert stored(db) == [] and outcomes.calls == []


def test_a_production_demo_refuses_events_signed_with_the_published_secret(app, client, db, outcomes, monkeypatch):
    own = "whsec_" + "d" * 40
    monkeypatch.setitem(app.config, "TEST_PROVIDER_WEBHOOK_SECRET", own)
    assert post(client, intent_event()).status_code == 400
    assert stored(db) == [] and outcomes.calls == []
    assert post(client, intent_event(), secret=own).status_code == 200


def test_a_stores_own_secret_vouches_for_its_own_intents_only(client, db, store, outcomes):
    """A merchant knows their own webhook secret: an event they sign about another store's
    intent is taken (200, stored) and ignored; about their own, it is applied."""
    from checkie.stores.payment_settings import update_payment_settings
    from tests.factories import make_attempt, make_page, make_store, make_user, open_checkout

    victim_checkout = open_checkout(db, make_page(db, store, publish=True), email="v@example.com")
    victim_attempt = make_attempt(db, victim_checkout, provider="stripe", intent_id="pi_victim")
    mallory = make_store(db, owner=make_user(db, email="m@example.com"), name="Mallory Goods", slug="mallory")
    update_payment_settings(db, mallory, provider="stripe", publishable_key="pk_test_mallory0001",
                            secret_key="sk_test_mallory0001", webhook_secret="whsec_mallory0001")
    own_checkout = open_checkout(db, make_page(db, mallory, publish=True), email="o@example.com")
    make_attempt(db, own_checkout, provider="stripe", intent_id="pi_own")
    db.commit()
    for intent_id in (victim_attempt.provider_intent_id, "pi_own"):
        body, headers = signed_event(
            intent_event(intent_id=intent_id, metadata={"checkout_session_id": "cs_any", "store_id": str(mallory.id)}),
            secret="whsec_mallory0001",
        )
        assert client.post("/api/webhooks/stripe", data=body, headers=headers).status_code == 200
    assert len(stored(db)) == 2
    assert [call[1]["intent_id"] for call in outcomes.calls] == ["pi_own"]
