"""Dashboard: payments — list, filters (status, dates, email, needs review), keyset pages,
htmx fragments, the streamed CSV export (with the same filters), detail; viewers; tenants."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from checkie.checkout.models import CheckoutState
from checkie.payments.models import AttemptStatus, PaymentStatus
from checkie.stores.models import Role
from tests.factories import (
    add_member,
    make_attempt,
    make_checkout,
    make_customer,
    make_page,
    make_payment,
    make_store,
    make_user,
)
from tests.http import HX, login_as


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/payments{rest}"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


@pytest.fixture
def viewer_client(client, db, store):
    viewer = make_user(db, email="viewer@example.com", name="Vic Viewer")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    return client


def test_empty_list(viewer_client, store):
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert "No payments yet" in page and 'aria-current="page"' in page


def test_list_filters_by_status_dates_email_and_review(viewer_client, db, store):
    make_payment(db, store, amount=1111, email="ann@example.com", created_at=at("2024-03-10"))
    make_payment(db, store, amount=2222, email="bob@example.com", created_at=at("2024-03-12"),
                 status=PaymentStatus.REFUNDED, refunded=2222)
    make_payment(db, store, amount=3333, email="cy@example.com", created_at=at("2024-03-14"), needs_review=True,
                 review_reason="session already expired")
    db.commit()
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert all(a in page for a in ("$11.11", "$22.22", "$33.33")) and "Needs review" in page

    def shown(**args):
        body = viewer_client.get(url(store), query_string=args).get_data(as_text=True)
        return {a for a in ("$11.11", "$22.22", "$33.33") if a in body}

    assert shown(status="refunded") == {"$22.22"}
    assert shown(q="ann") == {"$11.11"}
    assert shown(**{"from": "2024-03-11", "to": "2024-03-12"}) == {"$22.22"}
    assert shown(review="1") == {"$33.33"}
    assert shown(status="nonsense", **{"from": "garbage"}) == {"$11.11", "$22.22", "$33.33"}  # ignored, not a 500


def test_keyset_pages_carry_the_filters(viewer_client, db, store, monkeypatch):
    from checkie.dashboard import payments as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    made = [make_payment(db, store, amount=1000 + n, email="ann@example.com") for n in range(3)]
    make_payment(db, store, amount=9999, email="bob@example.com")
    db.commit()
    first = viewer_client.get(url(store), query_string={"q": "ann"}).get_data(as_text=True)
    assert "$10.02" in first and "$10.01" in first and "$10.00" not in first
    assert f"before={made[1].id}" in first and "q=ann" in first
    second = viewer_client.get(url(store), query_string={"q": "ann", "before": made[1].id}).get_data(as_text=True)
    assert "$10.00" in second and "$10.01" not in second and "$99.99" not in second and 'rel="prev"' in second


def test_htmx_gets_only_the_table(viewer_client, db, store):
    make_payment(db, store, amount=1234)
    db.commit()
    response = viewer_client.get(url(store), query_string={"status": "succeeded"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="payment-list"' in body and "$12.34" in body
    assert "HX-Request" in response.headers["Vary"]


def test_filter_form_works_without_javascript(viewer_client, store):
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert f'method="get" action="{url(store)}"' in page and 'hx-push-url="true"' in page and 'hx-target="#payment-list"' in page


def test_csv_export_streams_the_filtered_list(viewer_client, db, store):
    make_payment(db, store, amount=1250, email="ann@example.com", created_at=at("2024-03-10"))
    make_payment(db, store, amount=500, email="bob@example.com", created_at=at("2024-03-11"))
    make_payment(db, make_store(db, name="Other"), amount=777)
    db.commit()
    response = viewer_client.get(url(store, "/export.csv"), query_string={"q": "ann@example.com"})
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"], r["amount"], r["amount_minor"], r["created_at"]) for r in rows] == [
        ("ann@example.com", "12.50", "1250", "2024-03-10T12:00:00+00:00")]
    everything = viewer_client.get(url(store, "/export.csv")).get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(everything)))) == 2  # never another store's


def test_export_link_keeps_the_filters(viewer_client, store):
    page = viewer_client.get(url(store), query_string={"status": "refunded", "review": "1"}).get_data(as_text=True)
    assert f"{url(store, '/export.csv')}?status=refunded&amp;review=1" in page


def test_detail_shows_money_attempts_session_customer_and_review(viewer_client, db, store):
    customer = make_customer(db, store, email="ann@example.com", name="Ann Buyer")
    checkout = make_checkout(db, make_page(db, store), state=CheckoutState.COMPLETED)
    make_attempt(db, checkout, status=AttemptStatus.FAILED, intent_id="pi_declined1", failure_code="card_declined")
    make_attempt(db, checkout, status=AttemptStatus.SUCCEEDED, intent_id="pi_ok2")
    payment = make_payment(db, store, amount=10000, session=checkout, customer=customer, needs_review=True,
                           review_reason="Amount differs from the session total")
    db.commit()
    page = viewer_client.get(url(store, f"/{payment.id}")).get_data(as_text=True)
    assert "$100.00" in page and "$2.90" in page and "$97.10" in page
    assert "pi_declined1" in page and "card_declined" in page and "pi_ok2" in page
    assert f"/sessions/{checkout.id}" in page and f"/customers/{customer.id}" in page and "Ann Buyer" in page
    assert "Needs review" in page and "Amount differs from the session total" in page


def test_another_stores_payment_is_a_404(viewer_client, db, store):
    foreign = make_payment(db, make_store(db, name="Other"), amount=500)
    db.commit()
    assert viewer_client.get(url(store, f"/{foreign.id}")).status_code == 404
    other_store = foreign.store_id
    assert viewer_client.get(f"/dashboard/stores/{other_store}/payments").status_code == 404
    assert viewer_client.get(url(store, "/99999999999999999999")).status_code == 404
