"""JSON API: /api/stores/<id>/customers — list with search, detail, their payments; 404 across stores."""
from __future__ import annotations

import pytest

from tests.factories import make_customer, make_payment, make_store
from tests.http import access_token_for, bearer


def test_list_detail_and_payments(client, db, store, auth):
    ann = make_customer(db, store, email="ann@example.com", name="Ann Archer")
    bob = make_customer(db, store, email="bob@example.com", name="Bob Baker")
    paid = make_payment(db, store, amount=1500, customer=ann)
    make_payment(db, store, amount=900, customer=bob)
    db.commit()
    base = f"/api/stores/{store.id}/customers"
    listing = client.get(base, headers=auth).json
    assert [c["email"] for c in listing["data"]] == ["bob@example.com", "ann@example.com"]
    assert set(listing["data"][0]) == {"id", "email", "name", "createdAt"} and listing["nextCursor"] is None
    assert [c["id"] for c in client.get(base, query_string={"search": "archer"}, headers=auth).json["data"]] == [ann.id]
    detail = client.get(f"{base}/{ann.id}", headers=auth).json
    assert (detail["id"], detail["email"], detail["name"]) == (ann.id, "ann@example.com", "Ann Archer")
    payments = client.get(f"{base}/{ann.id}/payments", headers=auth).json
    assert [(p["id"], p["amount"], p["customerId"]) for p in payments["data"]] == [(paid.id, 1500, ann.id)]


def test_another_stores_customer_is_404(client, db, store, auth):
    foreign = make_customer(db, make_store(db, name="Other"))
    db.commit()
    for path in (f"customers/{foreign.id}", f"customers/{foreign.id}/payments"):
        response = client.get(f"/api/stores/{store.id}/{path}", headers=auth)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
