"""webhooks.services.record_event (SPEC §7, an outbox): an event and one pending delivery per
enabled endpoint of the store subscribed to its type, in the caller's transaction, with the
object's JSON API view as `data`; and the events Checkie emits today: payment.completed,
payment.failed, customer.created, checkout.session.expired."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.checkout.models import CheckoutState
from checkie.checkout.tasks import expire_checkouts
from checkie.customers.services import find_or_create_customer
from checkie.database import utcnow
from checkie.payments import outcomes
from checkie.webhooks import services
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from tests.factories import make_checkout, make_customer, make_page, make_store, make_user, start_attempt
from tests.http import access_token_for, bearer


def events_of(db, type: str | None = None) -> list[WebhookEvent]:
    stmt = sa.select(WebhookEvent).order_by(WebhookEvent.created_at)
    if type:
        stmt = stmt.where(WebhookEvent.type == type)
    return list(db.scalars(stmt))


def deliveries_of(db, event: WebhookEvent) -> list[WebhookDelivery]:
    return list(db.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.event_id == event.id).order_by(WebhookDelivery.id)))


def endpoint_for(db, store, receiver, events: list[str]):
    endpoint, _ = services.create_endpoint(db, store, url=receiver.url, events=events)
    db.commit()
    return endpoint


def api_view(client, app, user, path: str) -> dict:
    answer = client.get(path, headers=bearer(access_token_for(app, user)))
    assert answer.status_code == 200, answer.json
    return answer.json


def paid(db, store):
    page = make_page(db, store, title="Linen tote bag", amount=1050, publish=True)
    attempt = start_attempt(db, make_checkout(db, page, email="shopper@example.com"))
    db.commit()
    payment = outcomes.payment_succeeded(db, provider="test", intent_id=attempt.provider_intent_id, amount=1050,
                                         currency="usd", metadata={})
    db.commit()
    return payment


def test_an_event_goes_to_each_enabled_subscribed_endpoint_of_its_store_only(db, store, receiver):
    payments = endpoint_for(db, store, receiver, ["payment.completed", "customer.created"])
    also = endpoint_for(db, store, receiver, ["customer.created"])
    endpoint_for(db, store, receiver, ["payment.completed"])  # not subscribed to customer.created
    off = endpoint_for(db, store, receiver, ["customer.created"])
    services.update_endpoint(db, off, enabled=False)
    other = make_store(db, owner=make_user(db, email="rival@example.com"), name="Rival", slug="rival")
    endpoint_for(db, other, receiver, ["customer.created"])

    event = services.record_event(db, store.id, "customer.created", {"id": 7, "email": "a@example.com"})
    db.commit()

    assert event.id.startswith("evt_") and len(event.id) >= 28
    assert (event.store_id, event.type, event.data) == (store.id, "customer.created", {"id": 7, "email": "a@example.com"})
    assert [d.endpoint_id for d in deliveries_of(db, event)] == [payments.id, also.id]
    assert sorted(receiver.event_ids()) == [event.id, event.id]  # sent once committed


def test_an_event_nobody_listens_to_writes_nothing(db, store, receiver):
    endpoint_for(db, store, receiver, ["payment.completed"])

    assert services.record_event(db, store.id, "customer.created", {"id": 1}) is None
    db.commit()
    assert events_of(db) == []


def test_an_event_rolled_back_with_its_change_is_never_sent(db, store, receiver):
    endpoint_for(db, store, receiver, ["customer.created"])

    services.record_event(db, store.id, "customer.created", {"id": 1})
    db.rollback()

    assert events_of(db) == [] and receiver.received == []


def test_event_ids_are_unguessable_and_unique(db, store, receiver):
    endpoint_for(db, store, receiver, ["customer.created"])
    ids = {services.record_event(db, store.id, "customer.created", {"n": n}).id for n in range(50)}
    assert len(ids) == 50


def test_an_unknown_or_unsubscribable_type_is_a_programming_error(db, store):
    for type in ("payment.teleported", "ping"):
        with pytest.raises(ValueError):
            services.record_event(db, store.id, type, {})


def test_payment_completed_carries_the_payment_as_the_api_shows_it(db, store, user, receiver, client, app):
    endpoint_for(db, store, receiver, ["payment.completed"])

    payment = paid(db, store)

    (event,) = events_of(db, "payment.completed")
    assert event.data == api_view(client, app, user, f"/api/stores/{store.id}/payments/{payment.id}")
    assert event.data["amount"] == 1050 and event.data["checkoutSessionId"] == payment.session_id
    assert [d.status for d in deliveries_of(db, event)] == [DeliveryStatus.SUCCEEDED]


def test_a_repeated_success_records_no_second_event(db, store, receiver):
    endpoint_for(db, store, receiver, ["payment.completed"])
    payment = paid(db, store)

    outcomes.payment_succeeded(db, provider="test", intent_id=payment.provider_payment_id, amount=1050, currency="usd",
                               metadata={})
    db.commit()

    assert len(events_of(db, "payment.completed")) == 1


def test_payment_failed_carries_the_session_with_the_declined_attempt(db, store, user, receiver, client, app):
    endpoint_for(db, store, receiver, ["payment.failed"])
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    db.commit()

    for _ in range(2):  # the PSP repeats itself: one event
        outcomes.payment_failed(db, provider="test", intent_id=attempt.provider_intent_id, code="card_declined",
                                message="Declined.")
        db.commit()

    (event,) = events_of(db, "payment.failed")
    assert event.data == api_view(client, app, user, f"/api/stores/{store.id}/checkout-sessions/{checkout.id}")
    assert event.data["state"] == "open"
    assert event.data["attempts"][0]["failureCode"] == "card_declined"


def test_customer_created_only_for_a_new_customer(db, store, user, receiver, client, app):
    endpoint_for(db, store, receiver, ["customer.created"])

    find_or_create_customer(db, store.id, email="New@Example.com", name="Nia New")
    db.commit()
    find_or_create_customer(db, store.id, email="new@example.com", name=None)
    db.commit()

    (event,) = events_of(db, "customer.created")
    # The customer as the API lists it (the detail adds its payments and subscriptions).
    assert [event.data] == api_view(client, app, user, f"/api/stores/{store.id}/customers")["data"]
    assert event.data["email"] == "new@example.com" and event.data["paymentCount"] == 0


def test_checkout_session_expired_from_the_timeout_task(db, store, user, receiver, client, app):
    endpoint_for(db, store, receiver, ["checkout.session.expired"])
    page = make_page(db, store, amount=1000, publish=True)
    late = make_checkout(db, page, created_at=utcnow() - timedelta(hours=2))
    make_checkout(db, page)  # still has time
    make_checkout(db, page, state=CheckoutState.COMPLETED, created_at=utcnow() - timedelta(hours=2))  # paid, not expired
    db.commit()

    assert expire_checkouts.call_local() == 1

    (event,) = events_of(db, "checkout.session.expired")
    assert event.data == api_view(client, app, user, f"/api/stores/{store.id}/checkout-sessions/{late.id}")
    assert (event.data["id"], event.data["state"]) == (late.id, "expired")


def test_the_third_failure_expires_the_session_with_an_event(db, store, receiver):
    endpoint_for(db, store, receiver, ["checkout.session.expired", "payment.failed"])
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    for _ in range(3):
        attempt = start_attempt(db, checkout)
        db.commit()
        outcomes.payment_failed(db, provider="test", intent_id=attempt.provider_intent_id, code="card_declined",
                                message="Declined.")
        db.commit()

    assert len(events_of(db, "payment.failed")) == 3
    (expired,) = events_of(db, "checkout.session.expired")
    assert (expired.data["id"], expired.data["state"]) == (checkout.id, "expired")


def test_events_of_a_store_without_endpoints_cost_no_rows(db, store):
    make_customer(db, store)
    find_or_create_customer(db, store.id, email="quiet@example.com", name=None)
    db.commit()
    assert events_of(db) == []


def test_who_listens_is_read_once_per_transaction_and_reread_after_this_transaction_changes_it(db, store, receiver):
    """record_event reads the store's endpoints once per transaction (a payment records several
    events), but an endpoint this transaction creates, disables or deletes counts at once."""
    customer = make_customer(db, store, email="c@example.com")
    db.commit()
    first = services.record_event(db, store.id, "customer.created", customer)
    endpoint, _ = services.create_endpoint(db, store, url=receiver.url, events=["customer.created"])
    second = services.record_event(db, store.id, "customer.created", customer)
    services.update_endpoint(db, endpoint, enabled=False)
    third = services.record_event(db, store.id, "customer.created", customer)
    db.execute(sa.update(type(endpoint)).where(type(endpoint).id == endpoint.id).values(enabled=True))
    fourth = services.record_event(db, store.id, "customer.created", customer)
    services.delete_endpoint(db, endpoint)
    fifth = services.record_event(db, store.id, "customer.created", customer)
    db.commit()
    assert first is None and second is not None and third is None and fourth is not None and fifth is None
