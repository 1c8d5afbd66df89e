"""JSON API: POST /api/stores/<id>/payments/<paymentId>/refund with Idempotency-Key, and the
refunds list and detail (SPEC §6.6); viewers read but may not refund; another store's ids 404."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.payments.models import BalanceTransaction, Refund, TransactionType
from checkie.stores.models import Role
from tests.factories import add_member, credit_payment, make_payment, make_store, make_user
from tests.http import access_token_for, bearer
from tests.ledger import assert_ledger_consistent

REFUND_KEYS = {"id", "paymentId", "amount", "currency", "reason", "status", "createdAt"}


@pytest.fixture
def payment(db, store):
    payment = make_payment(db, store, amount=10_000)
    credit_payment(db, store, payment)
    db.commit()
    return payment


def refund(client, store, payment, auth, body: dict, key: str | None = None):
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/stores/{store.id}/payments/{payment.id}/refund", json=body, headers=headers)


def refund_count(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Refund))


def test_a_refund_answers_its_view_and_the_payment_follows(client, db, store, payment, auth):
    answer = refund(client, store, payment, auth, {"amount": 2_500, "reason": "fraudulent"})
    assert answer.status_code == 201, answer.json
    assert set(answer.json) == REFUND_KEYS
    assert answer.json | {"id": 0, "createdAt": ""} == {
        "id": 0, "paymentId": payment.id, "amount": 2_500, "currency": "USD", "reason": "fraudulent",
        "status": "succeeded", "createdAt": "",
    }
    shown = client.get(f"/api/stores/{store.id}/payments/{payment.id}", headers=auth).json
    assert (shown["status"], shown["amountRefunded"]) == ("partially_refunded", 2_500)
    assert client.get(f"/api/stores/{store.id}/refunds/{answer.json['id']}", headers=auth).json == answer.json

    full = refund(client, store, payment, auth, {"amount": 7_500})
    assert full.json["reason"] == "requested_by_customer"
    shown = client.get(f"/api/stores/{store.id}/payments/{payment.id}", headers=auth).json
    assert (shown["status"], shown["amountRefunded"]) == ("refunded", 10_000)


def test_more_than_what_is_left_is_422_and_changes_nothing(client, db, store, payment, auth):
    refund(client, store, payment, auth, {"amount": 6_000})
    answer = refund(client, store, payment, auth, {"amount": 4_001})
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "refund_exceeds_payment"
    assert "amount" in answer.json["error"]["fields"]
    assert refund_count(db) == 1
    assert assert_ledger_consistent(db, store.id, "USD") == 9_710 - 6_000


@pytest.mark.parametrize("body", [{}, {"amount": "100"}, {"amount": 1.5}, {"amount": 100, "reason": "bored"},
                                  {"amount": 10**30}, [], {"amount": None}])
def test_bad_bodies_are_422_and_change_nothing(client, db, store, payment, auth, body):
    answer = refund(client, store, payment, auth, body)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "validation_error"
    assert refund_count(db) == 0


def test_the_same_key_replays_and_another_body_is_422(client, db, store, payment, auth):
    first = refund(client, store, payment, auth, {"amount": 3_000}, key="refund-1")
    again = refund(client, store, payment, auth, {"amount": 3_000}, key="refund-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = refund(client, store, payment, auth, {"amount": 2_000}, key="refund-1")
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert refund_count(db) == 1
    refund_rows = db.scalars(sa.select(BalanceTransaction).where(BalanceTransaction.type == TransactionType.REFUND)).all()
    assert [row.amount for row in refund_rows] == [-3_000]
    assert assert_ledger_consistent(db, store.id, "USD") == 9_710 - 3_000


def test_a_viewer_reads_refunds_but_may_not_refund(app, client, db, store, payment, auth):
    made = refund(client, store, payment, auth, {"amount": 1_000}).json
    viewer = make_user(db, email="viewer@example.com")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    as_viewer = bearer(access_token_for(app, viewer))
    assert refund(client, store, payment, as_viewer, {"amount": 1_000}).status_code == 403
    assert refund_count(db) == 1
    assert client.get(f"/api/stores/{store.id}/refunds", headers=as_viewer).json["data"] == [made]


def test_the_list_pages_newest_first_and_other_stores_are_404(client, db, store, payment, auth):
    ids = [refund(client, store, payment, auth, {"amount": 1_000}).json["id"] for _ in range(3)]
    first = client.get(f"/api/stores/{store.id}/refunds?limit=2", headers=auth).json
    assert [r["id"] for r in first["data"]] == ids[::-1][:2]
    rest = client.get(f"/api/stores/{store.id}/refunds?limit=2&cursor={first['nextCursor']}", headers=auth).json
    assert [r["id"] for r in rest["data"]] == ids[:1] and rest["nextCursor"] is None

    other = make_store(db, owner=make_user(db, email="other@example.com"), name="Other", slug="other")
    theirs = make_payment(db, other, amount=5_000)
    db.commit()
    assert refund(client, store, theirs, auth, {"amount": 100}).status_code == 404
    assert client.get(f"/api/stores/{other.id}/refunds/{ids[0]}", headers=auth).status_code == 404
    assert refund_count(db) == 3
