"""JSON API: balance, ledger and report; and /stats with real numbers; 404 across stores."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checkie.catalog import stats as page_stats
from checkie.payments.models import StoreBalance, TransactionType
from tests.factories import add_ledger_entry, credit_payment, make_page, make_payment, make_store
from tests.http import access_token_for, bearer


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def test_balance_reads_the_head_rows(client, db, store, auth):
    assert client.get(f"/api/stores/{store.id}/balance", headers=auth).json == {"balances": []}
    credit_payment(db, store, make_payment(db, store, amount=10000))
    add_ledger_entry(db, store, "EUR", TransactionType.ADJUSTMENT, 250)
    db.commit()
    body = client.get(f"/api/stores/{store.id}/balance", headers=auth).json
    assert body == {"balances": [{"currency": "EUR", "available": 250}, {"currency": "USD", "available": 9710}]}


def test_ledger_pages_newest_first(client, db, store, auth):
    payment = make_payment(db, store, amount=10000)
    credit_payment(db, store, payment)
    add_ledger_entry(db, store, "USD", TransactionType.REFUND, -1000, payment=payment)
    db.commit()
    base = f"/api/stores/{store.id}/balance/transactions"
    first = client.get(base, query_string={"limit": 2}, headers=auth).json
    assert [(e["type"], e["amount"], e["balanceAfter"], e["sequence"]) for e in first["data"]] == [
        ("refund", -1000, 8710, 3), ("fee", -290, 9710, 2)]
    assert set(first["data"][0]) == {"id", "currency", "type", "amount", "balanceAfter", "sequence", "paymentId",
                                     "description", "createdAt"}
    rest = client.get(base, query_string={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json
    assert [e["type"] for e in rest["data"]] == ["payment"] and rest["nextCursor"] is None
    assert client.get(base, query_string={"currency": "EUR"}, headers=auth).json["data"] == []


def test_report_by_period(client, db, store, auth):
    for day, amount in (("2024-01-31", 1000), ("2024-02-01", 2000), ("2024-02-05", 4000)):
        credit_payment(db, store, make_payment(db, store, amount=amount, created_at=at(day)))
    add_ledger_entry(db, store, "USD", TransactionType.REFUND, -500, at=at("2024-02-05"))
    db.commit()
    base = f"/api/stores/{store.id}/balance/report"
    week = client.get(base, query_string={"period": "week", "from": "2024-01-01", "to": "2024-02-29"}, headers=auth).json
    assert week == {"period": "week", "rows": [
        {"start": "2024-01-29", "currency": "USD", "gross": 3000, "fees": 87, "refunds": 0, "net": 2913, "payouts": 0},
        {"start": "2024-02-05", "currency": "USD", "gross": 4000, "fees": 116, "refunds": 500, "net": 3384, "payouts": 0}]}
    day = client.get(base, query_string={"from": "2024-02-01", "to": "2024-02-01"}, headers=auth).json
    assert day["period"] == "day" and [r["gross"] for r in day["rows"]] == [2000]
    for query in ({"from": "2024-02-02", "to": "2024-02-01"}, {"from": "2020-01-01", "to": "2024-01-01"},
                  {"from": "2024-01-01", "to": "2022-01-01"}, {"period": "year", "from": "2024-01-01", "to": "2024-01-02"}):
        assert client.get(base, query_string=query, headers=auth).status_code == 422, query
    default = client.get(base, headers=auth).json  # the last 30 days
    assert default == {"period": "day", "rows": []}


def test_stats_are_real_numbers(client, db, store, auth):
    page = make_page(db, store)
    page_stats.record_view(db, page.id, 20)
    page_stats.record_session(db, page.id, 5)
    page_stats.record_conversion(db, page.id, revenue=2500)
    credit_payment(db, store, make_payment(db, store, amount=2500))
    credit_payment(db, store, make_payment(db, store, amount=700, currency="EUR"))
    db.commit()
    body = client.get(f"/api/stores/{store.id}/stats", headers=auth).json
    assert body == {"payments": 2, "revenue": [{"currency": "USD", "amount": 2500}, {"currency": "EUR", "amount": 700}],
                    "pageViews": 20, "checkoutSessions": 5, "conversions": 1, "conversionRate": 0.2}


def test_another_stores_money_is_404(client, db, auth):
    other = make_store(db, name="Other")
    db.get(StoreBalance, (other.id, "USD")) or add_ledger_entry(db, other, "USD", TransactionType.ADJUSTMENT, 100)
    db.commit()
    for path in ("balance", "balance/transactions", "balance/report?from=2024-01-01&to=2024-01-02", "stats"):
        assert client.get(f"/api/stores/{other.id}/{path}", headers=auth).status_code == 404, path
