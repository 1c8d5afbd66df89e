"""Dashboard: customers — list with search and pages, htmx fragment, detail with payments; tenants."""
from __future__ import annotations

import pytest

from tests.factories import make_customer, make_payment, make_store
from tests.http import HX, login_as


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/customers{rest}"


@pytest.fixture
def owner_client(client, user):
    login_as(client, user)
    return client


def test_list_and_search(owner_client, db, store):
    make_customer(db, store, email="ann@example.com", name="Ann Archer")
    make_customer(db, store, email="bob@example.com", name="Bob Baker")
    make_customer(db, make_store(db, name="Other"), email="zed@example.com")
    db.commit()
    page = owner_client.get(url(store)).get_data(as_text=True)
    assert "ann@example.com" in page and "bob@example.com" in page and "zed@example.com" not in page
    by_name = owner_client.get(url(store), query_string={"q": "baker"}, headers=HX).get_data(as_text=True)
    assert "<html" not in by_name and "bob@example.com" in by_name and "ann@example.com" not in by_name
    none = owner_client.get(url(store), query_string={"q": "nobody"}).get_data(as_text=True)
    assert "No customers match" in none


def test_empty_list(owner_client, store):
    assert "No customers yet" in owner_client.get(url(store)).get_data(as_text=True)


def test_detail_lists_their_payments_only(owner_client, db, store):
    ann = make_customer(db, store, email="ann@example.com", name="Ann Archer")
    bob = make_customer(db, store, email="bob@example.com")
    mine = make_payment(db, store, amount=1500, customer=ann)
    make_payment(db, store, amount=9900, customer=bob)
    db.commit()
    page = owner_client.get(url(store, f"/{ann.id}")).get_data(as_text=True)
    assert "Ann Archer" in page and "$15.00" in page and f"/payments/{mine.id}" in page and "$99.00" not in page


def test_another_stores_customer_is_a_404(owner_client, db, store):
    foreign = make_customer(db, make_store(db, name="Other"))
    db.commit()
    assert owner_client.get(url(store, f"/{foreign.id}")).status_code == 404
