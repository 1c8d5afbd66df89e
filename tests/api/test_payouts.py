"""JSON API (SPEC §6.6): the payout account and payouts; viewers read only, other stores 404,
`Idempotency-Key` on the request."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.payments.models import Payout, TransactionType
from checkie.providers.test_payouts import NO_ACCOUNT, PAID_ACCOUNT, TEST_ROUTING_NUMBER
from checkie.stores.models import Role
from tests.factories import add_ledger_entry, add_member, make_store, make_user
from tests.http import access_token_for, bearer
from tests.ledger import assert_ledger_consistent

ACCOUNT = {"accountHolderName": "Ada Lovelace", "routingNumber": TEST_ROUTING_NUMBER, "accountNumber": PAID_ACCOUNT}


@pytest.fixture
def funded(db, store):
    add_ledger_entry(db, store, "USD", TransactionType.PAYMENT, 10_000)
    db.commit()
    return store


def _account(client, store, auth, **changes):
    return client.put(f"/api/stores/{store.id}/payout-account", json={**ACCOUNT, **changes}, headers=auth)


def test_the_account_is_answered_with_its_last4_only(client, store, auth):
    assert client.get(f"/api/stores/{store.id}/payout-account", headers=auth).status_code == 404

    saved = _account(client, store, auth)

    assert saved.status_code == 200
    assert saved.json == {"accountHolderName": "Ada Lovelace", "routingNumber": TEST_ROUTING_NUMBER, "last4": "6789"}
    assert client.get(f"/api/stores/{store.id}/payout-account", headers=auth).json == saved.json


def test_a_wrong_account_is_a_422_naming_each_field(client, store, auth):
    answer = _account(client, store, auth, accountHolderName="", routingNumber="12", accountNumber="12ab")

    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == {"accountHolderName", "routingNumber", "accountNumber"}
    assert client.get(f"/api/stores/{store.id}/payout-account", headers=auth).status_code == 404


def test_a_payout_is_requested_paid_and_listed(client, db, funded, auth):
    _account(client, funded, auth)

    created = client.post(f"/api/stores/{funded.id}/payouts", json={"amount": 2_500, "currency": "usd"}, headers=auth)

    assert created.status_code == 201
    assert set(created.json) == {"id", "amount", "currency", "status", "createdAt"}
    assert (created.json["amount"], created.json["currency"], created.json["status"]) == (2_500, "USD", "requested")
    shown = client.get(f"/api/stores/{funded.id}/payouts/{created.json['id']}", headers=auth).json
    assert shown["status"] == "paid" and "paidAt" in shown and "failureCode" not in shown
    listed = client.get(f"/api/stores/{funded.id}/payouts", headers=auth).json
    assert [p["id"] for p in listed["data"]] == [created.json["id"]] and listed["nextCursor"] is None
    assert client.get(f"/api/stores/{funded.id}/balance", headers=auth).json["balances"] == [
        {"currency": "USD", "available": 7_500}]


def test_a_failed_payout_shows_its_failure_code_and_the_balance_comes_back(client, db, funded, auth):
    _account(client, funded, auth, accountNumber=NO_ACCOUNT)

    created = client.post(f"/api/stores/{funded.id}/payouts", json={"amount": 10_000, "currency": "USD"}, headers=auth)

    shown = client.get(f"/api/stores/{funded.id}/payouts/{created.json['id']}", headers=auth).json
    assert (shown["status"], shown["failureCode"]) == ("failed", "no_account")
    assert assert_ledger_consistent(db, funded.id, "USD") == 10_000


@pytest.mark.parametrize(("amount", "code"), [(10_001, "insufficient_balance"), (99, "below_minimum")])
def test_refused_payouts_are_422_with_their_code(client, db, funded, auth, amount, code):
    _account(client, funded, auth)

    answer = client.post(f"/api/stores/{funded.id}/payouts", json={"amount": amount, "currency": "USD"}, headers=auth)

    assert answer.status_code == 422 and answer.json["error"]["code"] == code and answer.json["error"]["message"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0


def test_no_payout_account_is_a_422(client, funded, auth):
    answer = client.post(f"/api/stores/{funded.id}/payouts", json={"amount": 1_000, "currency": "USD"}, headers=auth)

    assert answer.status_code == 422 and answer.json["error"]["code"] == "no_payout_account"


@pytest.mark.parametrize("body", [{"amount": "1000", "currency": "USD"}, {"amount": 1000, "currency": "XXX"},
                                  {"amount": 0, "currency": "USD"}, {"amount": 1000}, [1, 2]])
def test_bad_payout_bodies_are_422_and_change_nothing(client, db, funded, auth, body):
    _account(client, funded, auth)

    answer = client.post(f"/api/stores/{funded.id}/payouts", json=body, headers=auth)

    assert answer.status_code == 422
    assert assert_ledger_consistent(db, funded.id, "USD") == 10_000


def test_the_same_key_replays_the_first_answer_and_pays_once(client, db, funded, auth):
    _account(client, funded, auth)
    url, headers = f"/api/stores/{funded.id}/payouts", {**auth, "Idempotency-Key": "payout-1"}

    first = client.post(url, json={"amount": 1_000, "currency": "USD"}, headers=headers)
    again = client.post(url, json={"amount": 1_000, "currency": "USD"}, headers=headers)
    other = client.post(url, json={"amount": 2_000, "currency": "USD"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert db.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1
    assert assert_ledger_consistent(db, funded.id, "USD") == 9_000


def test_viewers_read_but_may_not_write(app, client, db, funded, auth):
    _account(client, funded, auth)
    viewer = make_user(db, email="viewer@example.com")
    add_member(db, funded, viewer, role=Role.VIEWER)
    db.commit()
    as_viewer = bearer(access_token_for(app, viewer))

    assert _account(client, funded, as_viewer).status_code == 403
    post = client.post(f"/api/stores/{funded.id}/payouts", json={"amount": 1_000, "currency": "USD"}, headers=as_viewer)
    assert post.status_code == 403
    assert client.get(f"/api/stores/{funded.id}/payouts", headers=as_viewer).status_code == 200
    assert client.get(f"/api/stores/{funded.id}/payout-account", headers=as_viewer).json["last4"] == "6789"
    assert db.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0


def test_another_stores_payouts_are_404(client, db, funded, auth):
    _account(client, funded, auth)
    payout_id = client.post(f"/api/stores/{funded.id}/payouts", json={"amount": 1_000, "currency": "USD"},
                            headers=auth).json["id"]
    other = make_store(db, owner=make_user(db, email="eve@example.com"), name="Eve's")
    db.commit()
    eve = bearer(access_token_for(client.application, other.owner))

    assert client.get(f"/api/stores/{other.id}/payouts/{payout_id}", headers=eve).status_code == 404
    assert client.get(f"/api/stores/{funded.id}/payouts/{payout_id}", headers=eve).status_code == 404
    assert client.post(f"/api/stores/{funded.id}/payouts", json={"amount": 1_000, "currency": "USD"},
                       headers=eve).status_code == 404
