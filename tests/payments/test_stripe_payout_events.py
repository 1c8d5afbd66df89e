"""Stripe's later word on a payout (`payout.paid`, `payout.failed`) through POST /api/webhooks/stripe:
read in the Stripe seam, applied once by payments.payouts in the intake's transaction.

The payouts here are rows as the payout task leaves them after Stripe accepted them (paid, with
Stripe's id); tests/providers/test_stripe_end_to_end.py makes them through localstripe."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from checkie.database import utcnow
from checkie.payments.models import Payout, PayoutStatus, ProviderEvent, TransactionType
from checkie.providers.base import InvalidPayload
from checkie.providers.stripe import StripeProvider, read_payout_event, sign_payload
from checkie.webhooks.models import WebhookEvent
from tests.concurrency import run_concurrently
from tests.emails import emails_to
from tests.factories import add_ledger_entry, make_webhook_endpoint
from tests.ledger import assert_ledger_consistent, ledger_rows
from tests.providers.localstripe import RecordedStripe
from tests.psp import signed_event

PLATFORM_SECRET = "whsec_stripe_payout_events"
URL = "/api/webhooks/stripe"


@pytest.fixture(autouse=True)
def platform_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", PLATFORM_SECRET)


@pytest.fixture
def merchant_events(db, store):
    make_webhook_endpoint(db, store, events=("payout.paid", "payout.failed"))
    db.commit()


def accepted_payout(db, store, *, amount: int = 4_000, provider: str = "stripe", provider_payout_id: str | None = "po_accepted",
                    status: PayoutStatus = PayoutStatus.PAID) -> Payout:
    """A payout Stripe accepted: its `payout` ledger row, and the status the task recorded."""
    add_ledger_entry(db, store, "EUR", TransactionType.PAYMENT, 10_000)
    payout = Payout(store_id=store.id, amount=amount, currency="EUR", provider=provider, status=status, attempts=1,
                    provider_payout_id=provider_payout_id, due_at=utcnow(), requested_at=utcnow(),
                    paid_at=utcnow() if status is PayoutStatus.PAID else None)
    db.add(payout)
    db.flush()
    add_ledger_entry(db, store, "EUR", TransactionType.PAYOUT, -amount, payout=payout)
    db.commit()
    return payout


def payout_event(event_type: str, payout_id: str = "po_accepted", *, event_id: str | None = None, **fields) -> dict:
    return {
        "id": event_id or f"evt_{event_type.replace('.', '_')}_{payout_id}", "object": "event", "type": event_type,
        "data": {"object": {"id": payout_id, "object": "payout", "amount": 4_000, "currency": "eur", **fields}},
    }


def post(client, event: dict):
    body = json.dumps(event).encode()
    return client.post(URL, data=body, headers={"Content-Type": "application/json",
                                                "Stripe-Signature": sign_payload(body, PLATFORM_SECRET)})


def reversals(db, store) -> list[tuple[TransactionType, int]]:
    return [(row.type, row.amount) for row in ledger_rows(db, store.id, "EUR") if row.type is TransactionType.PAYOUT_REVERSAL]


def merchant_event_types(db, store) -> list[str]:
    return list(db.scalars(sa.select(WebhookEvent.type).where(WebhookEvent.store_id == store.id).order_by(WebhookEvent.created_at)))


def test_a_paid_payout_that_stripe_fails_later_is_reversed_once_with_its_code(client, db, store, merchant_events):
    payout = accepted_payout(db, store)
    event = payout_event("payout.failed", failure_code="account_closed", status="failed")

    assert post(client, event).status_code == 200
    assert post(client, event).status_code == 200  # Stripe delivers at least once
    # Another event reporting the same failure (Stripe resends with a new id on a retried endpoint).
    assert post(client, {**event, "id": "evt_payout_failed_again"}).status_code == 200

    db.refresh(payout)
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "account_closed")
    assert payout.failed_at is not None
    assert reversals(db, store) == [(TransactionType.PAYOUT_REVERSAL, 4_000)]
    assert assert_ledger_consistent(db, store.id, "EUR") == 10_000
    assert merchant_event_types(db, store) == ["payout.failed"]
    assert len(emails_to(db, store.owner.email, "payout_failed")) == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 2


def test_payout_paid_marks_a_payout_not_yet_paid_and_leaves_a_paid_one_alone(client, db, store, merchant_events):
    waiting = accepted_payout(db, store, provider_payout_id="po_waiting", status=PayoutStatus.PROCESSING)
    paid = accepted_payout(db, store, provider_payout_id="po_paid")
    paid_at = paid.paid_at

    assert post(client, payout_event("payout.paid", "po_waiting", status="paid")).status_code == 200
    assert post(client, payout_event("payout.paid", "po_paid", status="paid")).status_code == 200

    db.refresh(waiting)
    db.refresh(paid)
    assert waiting.status is PayoutStatus.PAID and waiting.paid_at is not None
    assert (paid.status, paid.paid_at) == (PayoutStatus.PAID, paid_at)
    assert merchant_event_types(db, store) == ["payout.paid"]
    assert len(emails_to(db, store.owner.email, "payout_paid")) == 1
    assert reversals(db, store) == []


def test_payout_paid_after_a_failure_leaves_it_failed(client, db, store):
    payout = accepted_payout(db, store)
    post(client, payout_event("payout.failed", failure_code="no_account"))

    assert post(client, payout_event("payout.paid", status="paid")).status_code == 200

    db.refresh(payout)
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "no_account")
    assert reversals(db, store) == [(TransactionType.PAYOUT_REVERSAL, 4_000)]


def test_a_failure_without_a_code_is_still_a_failure(client, db, store):
    payout = accepted_payout(db, store)

    assert post(client, payout_event("payout.failed", failure_code=None)).status_code == 200

    db.refresh(payout)
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "payout_failed")


def test_an_unknown_payout_is_stored_and_ignored(client, db, store):
    payout = accepted_payout(db, store)

    assert post(client, payout_event("payout.failed", "po_someone_elses", failure_code="no_account")).status_code == 200

    db.refresh(payout)
    assert payout.status is PayoutStatus.PAID and reversals(db, store) == []
    [stored] = db.scalars(sa.select(ProviderEvent)).all()
    assert (stored.provider, stored.type) == ("stripe", "payout.failed")


def test_a_stripe_event_never_touches_another_providers_payout_of_the_same_id(client, db, store):
    payout = accepted_payout(db, store, provider="test", provider_payout_id="po_shared")

    assert post(client, payout_event("payout.failed", "po_shared", failure_code="no_account")).status_code == 200

    db.refresh(payout)
    assert payout.status is PayoutStatus.PAID and reversals(db, store) == []


def test_the_test_providers_intake_stores_a_payout_event_and_moves_no_payout(client, db, store):
    payout = accepted_payout(db, store, provider="test", provider_payout_id="po_test_1")
    body, headers = signed_event(payout_event("payout.failed", "po_test_1", failure_code="no_account"))

    assert client.post("/api/webhooks/test", data=body, headers=headers).status_code == 200

    db.refresh(payout)
    assert payout.status is PayoutStatus.PAID and reversals(db, store) == []
    assert db.scalar(sa.select(ProviderEvent.provider)) == "test"


@pytest.mark.parametrize("data", [
    {},
    {"object": "po_1"},
    {"object": {"object": "payout"}},
    {"object": {"id": 17}},
    {"object": {"id": "po_" + "x" * 200}},
    {"object": {"id": "po_accepted", "failure_code": 7}},
    {"object": {"id": "po_accepted", "failure_code": "x" * 101}},
])
def test_a_malformed_payout_event_is_400_and_changes_nothing(client, db, store, data):
    payout = accepted_payout(db, store)

    response = post(client, {"id": "evt_bad", "object": "event", "type": "payout.failed", "data": data})

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_payload"
    db.refresh(payout)
    assert payout.status is PayoutStatus.PAID and reversals(db, store) == []
    assert db.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0


def test_read_payout_event_ignores_other_types_and_reads_the_failure():
    assert read_payout_event(payout_event("payout.created")) is None
    assert read_payout_event(payout_event("payment_intent.succeeded")) is None
    failed = read_payout_event(payout_event("payout.failed", "po_9", failure_code="could_not_process"))
    assert failed is not None and (failed.type, failed.payout_id, failed.failure_code) == (
        "payout.failed", "po_9", "could_not_process")
    with pytest.raises(InvalidPayload):
        read_payout_event({"id": "evt_1", "type": "payout.paid", "data": None})


def test_twenty_different_failure_events_at_once_reverse_the_payout_once(app, db, store):
    from checkie.payments.intake import receive_event

    accepted_payout(db, store)
    deliveries = []
    for index in range(20):
        body = json.dumps(payout_event("payout.failed", event_id=f"evt_failed_{index}", failure_code="no_account")).encode()
        deliveries.append((body, sign_payload(body, PLATFORM_SECRET)))

    run_concurrently(app, 20, lambda session, index: receive_event(session, "stripe", *deliveries[index]))

    db.expire_all()
    assert reversals(db, store) == [(TransactionType.PAYOUT_REVERSAL, 4_000)]
    assert assert_ledger_consistent(db, store.id, "EUR") == 10_000


def test_stripe_payouts_carry_the_callers_metadata_beside_the_last_four_digits():
    """Recorded: what the SDK sends, so the payout's events name the store whose secret signs them."""
    http = RecordedStripe((200, {"id": "po_sent", "object": "payout", "status": "pending"}))
    provider = StripeProvider("sk_test_recorded", "whsec_unused", "http://127.0.0.1:9", http_client=http)

    result = provider.create_payout(amount=5_000, currency="EUR", routing_number="110000000", account_number="000123456789",
                                    idempotency_key="checkie-payout-3", metadata={"store_id": "12", "payout_id": "3"})

    assert (result.payout_id, result.status) == ("po_sent", "paid")
    form = http.sent[0].form
    assert (form["metadata[store_id]"], form["metadata[payout_id]"], form["metadata[account_last4]"]) == (
        ["12"], ["3"], ["6789"])
    assert form["currency"] == ["eur"] and "000123456789" not in str(form)


def test_an_event_that_outruns_the_task_finds_the_payout_by_its_checkie_id(client, db, store, merchant_events):
    """Stripe's event can arrive while the task that asked for the payout has not yet recorded
    Stripe's id: the payout is found by the id Checkie put in its metadata, and Stripe's id is
    recorded then, so the task finds it settled and a later event finds it by Stripe's id."""
    payout = accepted_payout(db, store, provider_payout_id=None, status=PayoutStatus.PROCESSING)
    metadata = {"store_id": str(store.id), "payout_id": str(payout.id)}
    assert post(client, payout_event("payout.failed", "po_early", metadata=metadata,
                                     failure_code="no_account")).status_code == 200
    assert post(client, payout_event("payout.failed", "po_early", event_id="evt_again")).status_code == 200
    db.refresh(payout)
    assert (payout.status, payout.provider_payout_id, payout.failure_code) == (PayoutStatus.FAILED, "po_early", "no_account")
    assert reversals(db, store) == [(TransactionType.PAYOUT_REVERSAL, 4_000)]


def test_a_checkie_id_never_reaches_a_payout_that_has_stripes_id_already(client, db, store, merchant_events):
    payout = accepted_payout(db, store, provider_payout_id="po_known")
    metadata = {"store_id": str(store.id), "payout_id": str(payout.id)}
    assert post(client, payout_event("payout.failed", "po_other", metadata=metadata)).status_code == 200
    db.refresh(payout)
    assert (payout.status, payout.provider_payout_id) == (PayoutStatus.PAID, "po_known")
    assert reversals(db, store) == []


def test_a_stores_own_secret_vouches_for_its_own_payouts_only(client, db, store, merchant_events):
    """A merchant knows their own webhook secret: an event they sign cannot fail another store's payout."""
    from checkie.stores.payment_settings import update_payment_settings
    from tests.factories import make_store, make_user

    victim = accepted_payout(db, store, provider_payout_id="po_victim")
    merchant = make_store(db, owner=make_user(db, email="m@example.com"), name="Mallory Goods", slug="mallory")
    update_payment_settings(db, merchant, provider="stripe", publishable_key="pk_test_mallory0001",
                            secret_key="sk_test_mallory0001", webhook_secret="whsec_mallory0001")
    db.commit()
    for payout_id, metadata in (("po_victim", {"store_id": str(merchant.id)}),
                                ("po_made_up", {"store_id": str(merchant.id), "payout_id": str(victim.id)})):
        event = payout_event("payout.failed", payout_id, event_id=f"evt_{payout_id}", metadata=metadata)
        body = json.dumps(event).encode()
        response = client.post(URL, data=body, headers={"Content-Type": "application/json",
                                                        "Stripe-Signature": sign_payload(body, "whsec_mallory0001")})
        assert response.status_code == 200  # taken (Stripe would retry a refusal forever), and ignored
    db.refresh(victim)
    assert victim.status is PayoutStatus.PAID and reversals(db, store) == []
