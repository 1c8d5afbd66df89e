"""Dashboard: customers — list with search, pages and totals, htmx fragment, detail with payments,
subscriptions and portal activity, the "Send portal link" button; roles and tenants."""
from __future__ import annotations

import pytest

from checkie.customers import portal
from checkie.customers.models import Customer, PortalLink, PortalLinkKind
from checkie.stores.models import Role
from tests.emails import emails_to, latest_token
from tests.factories import add_member, make_customer, make_payment, make_refund, make_store, make_user
from tests.http import HX, login_as, post_form
from tests.subscription_factories import make_subscription


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


def test_list_shows_payment_counts_and_totals_per_currency(owner_client, db, store):
    ann = make_customer(db, store, email="ann@example.com")
    refunded = make_payment(db, store, amount=2000, customer=ann)
    make_refund(db, refunded, amount=500)
    make_payment(db, store, amount=700, currency="EUR", customer=ann)
    db.commit()
    page = owner_client.get(url(store)).get_data(as_text=True)
    assert "$15.00" in page and "€7.00" in page and "$20.00" not in page


def test_detail_shows_totals_subscriptions_and_portal_activity(owner_client, db, store):
    subscription = make_subscription(db, store, email="sub@example.com", amount=900)
    customer = db.get(Customer, subscription.customer_id)
    make_payment(db, store, amount=900, customer=customer)
    first, _ = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    _, token = portal.issue_link(db, customer, kind=PortalLinkKind.MERCHANT)
    portal.sign_in(db, token)
    db.commit()
    page = owner_client.get(url(store, f"/{customer.id}")).get_data(as_text=True)
    assert f'href="/dashboard/stores/{store.id}/subscriptions/{subscription.id}"' in page
    assert "$9.00 every month" in page and "Active" in page
    assert "Replaced by a newer link" in page and "Used " in page and "You (the store)" in page and "The customer" in page
    assert "Never signed in" not in page and "Send portal link" in page


def test_send_portal_link_emails_it_and_replaces_the_older_one(owner_client, db, store):
    customer = make_customer(db, store, email="ann@example.com")
    older, older_token = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    db.commit()
    response = post_form(owner_client, url(store, f"/{customer.id}/portal-link"), page=url(store, f"/{customer.id}"))
    assert response.status_code == 303 and response.headers["Location"].endswith(url(store, f"/{customer.id}"))
    shown = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A sign-in link was emailed to ann@example.com; it works once, for 30 minutes." in shown
    token = latest_token(db, "ann@example.com", "portal_link", "portal/verify")
    assert portal.link_for_token(db, token).kind == PortalLinkKind.MERCHANT
    with pytest.raises(portal.LinkRefused):
        portal.link_for_token(db, older_token)


def test_send_portal_link_needs_the_csrf_token(owner_client, db, store):
    customer = make_customer(db, store, email="ann@example.com")
    db.commit()
    response = owner_client.post(url(store, f"/{customer.id}/portal-link"), headers={"Referer": url(store, f"/{customer.id}")})
    assert response.status_code == 303 and "sign-in link was emailed" not in owner_client.get(url(store)).get_data(as_text=True)
    assert db.query(PortalLink).count() == 0 and emails_to(db, "ann@example.com") == []


def test_viewers_read_but_cannot_send_a_link(client, db, store):
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    customer = make_customer(db, store, email="ann@example.com")
    db.commit()
    login_as(client, viewer)
    page = client.get(url(store, f"/{customer.id}")).get_data(as_text=True)
    assert "ann@example.com" in page and "Send portal link" not in page and "Never signed in" in page
    refused = post_form(client, url(store, f"/{customer.id}/portal-link"), page=url(store, f"/{customer.id}"))
    assert refused.status_code == 403 and db.query(PortalLink).count() == 0 and emails_to(db, "ann@example.com") == []


def test_another_stores_customer_gets_no_link(owner_client, db, store):
    foreign = make_customer(db, make_store(db, name="Other"), email="zed@example.com")
    db.commit()
    response = post_form(owner_client, url(store, f"/{foreign.id}/portal-link"), page=url(store))
    assert response.status_code == 404 and db.query(PortalLink).count() == 0
