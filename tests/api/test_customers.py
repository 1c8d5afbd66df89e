"""JSON API: /api/stores/<id>/customers — list with search, totals, detail with payments and
subscriptions, the pre-authenticated portal link; roles and 404 across stores."""
from __future__ import annotations

from datetime import datetime

import pytest

from checkie.customers import portal
from checkie.customers.models import Customer, PortalLink, PortalLinkKind
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_customer, make_payment, make_refund, make_store, make_user
from tests.http import access_token_for, bearer
from tests.subscription_factories import make_subscription

CUSTOMER_KEYS = {"id", "email", "name", "createdAt", "paymentCount", "totalSpent"}


def test_list_detail_and_payments(client, db, store, auth):
    ann = make_customer(db, store, email="ann@example.com", name="Ann Archer")
    bob = make_customer(db, store, email="bob@example.com", name="Bob Baker")
    paid = make_payment(db, store, amount=1500, customer=ann)
    make_payment(db, store, amount=900, customer=bob)
    db.commit()
    base = f"/api/stores/{store.id}/customers"
    listing = client.get(base, headers=auth).json
    assert [c["email"] for c in listing["data"]] == ["bob@example.com", "ann@example.com"]
    assert set(listing["data"][0]) == CUSTOMER_KEYS and listing["nextCursor"] is None
    assert [c["id"] for c in client.get(base, query_string={"search": "archer"}, headers=auth).json["data"]] == [ann.id]
    detail = client.get(f"{base}/{ann.id}", headers=auth).json
    assert (detail["id"], detail["email"], detail["name"]) == (ann.id, "ann@example.com", "Ann Archer")
    payments = client.get(f"{base}/{ann.id}/payments", headers=auth).json
    assert [(p["id"], p["amount"], p["customerId"]) for p in payments["data"]] == [(paid.id, 1500, ann.id)]


def test_email_filter_matches_part_of_the_address_only(client, db, store, auth):
    ann = make_customer(db, store, email="ann@shop.example", name="Bob's sister")
    make_customer(db, store, email="bob@example.com", name="Bob Baker")
    db.commit()
    found = client.get(f"/api/stores/{store.id}/customers", query_string={"email": "ANN@SHOP"}, headers=auth).json
    assert [c["id"] for c in found["data"]] == [ann.id]
    wildcard = client.get(f"/api/stores/{store.id}/customers", query_string={"email": "%"}, headers=auth).json
    assert wildcard["data"] == []


def test_totals_are_per_currency_and_net_of_refunds(client, db, store, auth):
    ann = make_customer(db, store, email="ann@example.com")
    refunded = make_payment(db, store, amount=2000, customer=ann)
    make_refund(db, refunded, amount=500)
    make_payment(db, store, amount=1000, customer=ann)
    make_payment(db, store, amount=700, currency="EUR", customer=ann)
    make_customer(db, store, email="new@example.com")
    db.commit()
    listing = client.get(f"/api/stores/{store.id}/customers", headers=auth).json["data"]
    by_email = {c["email"]: (c["paymentCount"], c["totalSpent"]) for c in listing}
    assert by_email == {
        "ann@example.com": (3, [{"currency": "EUR", "amount": 700}, {"currency": "USD", "amount": 2500}]),
        "new@example.com": (0, []),
    }


def test_list_pages_with_a_cursor(client, db, store, auth):
    for number in range(3):
        make_customer(db, store, email=f"c{number}@example.com")
    db.commit()
    base = f"/api/stores/{store.id}/customers"
    first = client.get(base, query_string={"limit": 2}, headers=auth).json
    rest = client.get(base, query_string={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json
    assert [c["email"] for c in first["data"] + rest["data"]] == ["c2@example.com", "c1@example.com", "c0@example.com"]
    assert rest["nextCursor"] is None


def test_detail_adds_payments_and_subscriptions(client, db, store, auth):
    subscription = make_subscription(db, store, email="sub@example.com", amount=900)
    customer_id = subscription.customer_id
    other = make_subscription(db, store, email="other@example.com")
    payment = make_payment(db, store, amount=900, customer=db.get(Customer, customer_id))
    db.commit()
    detail = client.get(f"/api/stores/{store.id}/customers/{customer_id}", headers=auth).json
    assert set(detail) == CUSTOMER_KEYS | {"payments", "subscriptions"}
    assert (detail["paymentCount"], detail["totalSpent"]) == (1, [{"currency": "USD", "amount": 900}])
    assert [p["id"] for p in detail["payments"]] == [payment.id]
    assert [(s["id"], s["status"], s["amount"]) for s in detail["subscriptions"]] == [(subscription.id, "active", 900)]
    assert other.id not in [s["id"] for s in detail["subscriptions"]]


def test_portal_link_is_returned_and_its_token_signs_in(client, db, store, auth):
    customer = make_customer(db, store, email="ann@example.com")
    db.commit()
    response = client.post(f"/api/stores/{store.id}/customers/{customer.id}/portal-link", headers=auth)
    assert response.status_code == 201 and set(response.json) == {"url", "expiresAt"}
    assert response.json["url"].startswith("http://localhost/portal/verify/")
    token = response.json["url"].rsplit("/", 1)[1]
    link = portal.link_for_token(db, token)
    assert link.kind == PortalLinkKind.MERCHANT and link.customer_id == customer.id
    assert datetime.fromisoformat(response.json["expiresAt"]) == link.expires_at
    session, _ = portal.sign_in(db, token)
    db.commit()
    assert (session.store_id, session.customer_id) == (store.id, customer.id)
    with pytest.raises(portal.LinkRefused):
        portal.sign_in(db, token)


def test_a_second_portal_link_replaces_the_first(client, db, store, auth):
    customer = make_customer(db, store, email="ann@example.com")
    db.commit()
    url = f"/api/stores/{store.id}/customers/{customer.id}/portal-link"
    first = client.post(url, headers=auth).json["url"].rsplit("/", 1)[1]
    second = client.post(url, headers=auth).json["url"].rsplit("/", 1)[1]
    with pytest.raises(portal.LinkRefused) as refused:
        portal.link_for_token(db, first)
    assert refused.value.problem == portal.LinkProblem.REPLACED
    assert portal.link_for_token(db, second).customer_id == customer.id


def test_portal_link_roles_admin_and_api_key_yes_viewer_no(client, app, db, user, store):
    customer = make_customer(db, store, email="ann@example.com")
    admin, viewer = make_user(db), make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    add_member(db, store, viewer, role=Role.VIEWER)
    _, raw_key = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    url = f"/api/stores/{store.id}/customers/{customer.id}/portal-link"
    assert client.post(url, headers=bearer(access_token_for(app, admin))).status_code == 201
    assert client.post(url, headers=bearer(raw_key)).status_code == 201
    denied = client.post(url, headers=bearer(access_token_for(app, viewer)))
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden"
    assert client.get(f"/api/stores/{store.id}/customers/{customer.id}",
                      headers=bearer(access_token_for(app, viewer))).status_code == 200
    assert db.query(PortalLink).count() == 2
    assert client.post(url).status_code == 401


def test_another_stores_customer_is_404(client, db, store, auth):
    foreign = make_customer(db, make_store(db, name="Other"))
    db.commit()
    for path in (f"customers/{foreign.id}", f"customers/{foreign.id}/payments"):
        response = client.get(f"/api/stores/{store.id}/{path}", headers=auth)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    response = client.post(f"/api/stores/{store.id}/customers/{foreign.id}/portal-link", headers=auth)
    assert response.status_code == 404 and db.query(PortalLink).count() == 0
