"""Dashboard: balance — available per currency from StoreBalance, the ledger in keyset pages,
the report by day/week/month with its arithmetic, htmx fragments; viewers; tenants."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checkie.payments.models import StoreBalance, TransactionType
from checkie.stores.models import Role
from tests.factories import add_ledger_entry, add_member, credit_payment, make_payment, make_payout, make_store, make_user
from tests.http import HX, login_as


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/balance{rest}"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


@pytest.fixture
def viewer_client(client, db, store):
    viewer = make_user(db, email="viewer@example.com", name="Vic Viewer")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    return client


def test_available_comes_from_the_balance_row_not_the_ledger(viewer_client, db, store):
    credit_payment(db, store, make_payment(db, store, amount=10000))
    add_ledger_entry(db, store, "EUR", TransactionType.ADJUSTMENT, 250)
    db.get(StoreBalance, (store.id, "USD")).available = 123456  # the head is what counts
    db.commit()
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert "$1,234.56" in page and "€2.50" in page
    assert "$100.00" in page and "-$2.90" in page and "$97.10" in page  # ledger rows and balance_after


def test_a_negative_balance_is_explained_and_payout_rows_link_their_payout(viewer_client, db, store):
    credit_payment(db, store, make_payment(db, store, amount=10000))
    payout = make_payout(db, store, amount=5000)
    add_ledger_entry(db, store, "USD", TransactionType.PAYOUT, -5000, payout=payout)
    add_ledger_entry(db, store, "USD", TransactionType.REFUND, -10000)
    db.commit()
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert "-$52.90" in page and "A balance below zero means refunds gave back more" in page
    assert f'/payouts/{payout.id}">Payout #{payout.id}</a>' in page


def test_a_positive_balance_says_nothing_about_going_below_zero(viewer_client, db, store):
    credit_payment(db, store, make_payment(db, store, amount=10000))
    db.commit()
    assert "below zero" not in viewer_client.get(url(store)).get_data(as_text=True)


def test_empty_balance(viewer_client, store):
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert "$0.00" in page and "No balance movements yet" in page


def test_ledger_pages_and_htmx_fragment(viewer_client, db, store, monkeypatch):
    from checkie.dashboard import balance as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    entries = [add_ledger_entry(db, store, "USD", TransactionType.ADJUSTMENT, 100 * (n + 1)) for n in range(3)]
    db.commit()
    first = viewer_client.get(url(store)).get_data(as_text=True)
    assert f"before={entries[1].id}" in first and "$3.00" in first and "$1.00</td>" not in first
    second = viewer_client.get(url(store), query_string={"before": entries[1].id}, headers=HX)
    body = second.get_data(as_text=True)
    assert "<html" not in body and 'id="ledger"' in body and "$1.00" in body


def test_report_by_day_week_and_month(viewer_client, db, store):
    for day, amount in (("2024-01-31", 1000), ("2024-02-01", 2000), ("2024-02-05", 4000)):
        credit_payment(db, store, make_payment(db, store, amount=amount, created_at=at(day)))
    add_ledger_entry(db, store, "USD", TransactionType.REFUND, -500, at=at("2024-02-05"))
    db.commit()
    query = {"from": "2024-01-01", "to": "2024-02-29"}
    month = viewer_client.get(url(store, "/report"), query_string={**query, "period": "month"}).get_data(as_text=True)
    assert "January 2024" in month and "February 2024" in month
    assert "$60.00" in month and "$1.74" in month and "$5.00" in month and "$53.26" in month
    week = viewer_client.get(url(store, "/report"), query_string={**query, "period": "week"}, headers=HX).get_data(as_text=True)
    assert "<html" not in week and "29 Jan 2024" in week and "$30.00" in week and "$29.13" in week
    day = viewer_client.get(url(store, "/report"), query_string=query).get_data(as_text=True)
    assert "31 Jan 2024" in day and "$9.71" in day


def test_report_refuses_a_backwards_range_politely(viewer_client, store):
    response = viewer_client.get(url(store, "/report"), query_string={"from": "2024-03-01", "to": "2024-01-01"})
    assert response.status_code == 200 and "Choose a start date before the end date" in response.get_data(as_text=True)


def test_another_stores_balance_is_a_404(viewer_client, db):
    other = make_store(db, name="Other")
    db.commit()
    assert viewer_client.get(url(other)).status_code == 404
    assert viewer_client.get(url(other, "/report")).status_code == 404
