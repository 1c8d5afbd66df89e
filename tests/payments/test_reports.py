"""payments.reports: keyset pages, payment filters, the balance report's buckets and arithmetic,
the CSV export and the store overview numbers."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from checkie.catalog import stats as page_stats
from checkie.errors import ValidationFailed
from checkie.pagination import InvalidCursor
from checkie.payments import exports, ledger, reports
from checkie.payments.models import PaymentStatus, TransactionType
from checkie.payments.reports import PaymentFilters, Period
from tests.factories import add_ledger_entry, credit_payment, make_page, make_payment, make_store


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_payments_page_newest_first_by_id_without_gaps_or_repeats(db, store):
    made = [make_payment(db, store, amount=100 + n) for n in range(7)]
    seen, before = [], None
    while True:
        rows, more = reports.list_payments(db, store.id, before_id=before, limit=3)
        seen += [p.id for p in rows]
        if not more:
            break
        before = rows[-1].id
    assert seen == [p.id for p in reversed(made)]


def test_payment_filters_combine(db, store):
    other = make_store(db, name="Other")
    keep = make_payment(db, store, email="ann@example.com", created_at=at("2024-03-10"), status=PaymentStatus.REFUNDED,
                        refunded=2500, needs_review=True, review_reason="amount mismatch")
    make_payment(db, store, email="ann@example.com", created_at=at("2024-03-12"))
    make_payment(db, store, email="bob@example.com", created_at=at("2024-03-10"), status=PaymentStatus.REFUNDED, refunded=2500)
    make_payment(db, other, email="ann@example.com", created_at=at("2024-03-10"), status=PaymentStatus.REFUNDED, refunded=2500)

    def ids(**filters):
        return [p.id for p in reports.list_payments(db, store.id, PaymentFilters(**filters))[0]]

    assert ids(email="Ann@Example.com ", status=PaymentStatus.REFUNDED) == [keep.id]
    assert len(ids(email="ANN@")) == 2  # part of an address, any case
    assert len(ids(date_from=date(2024, 3, 10), date_to=date(2024, 3, 10))) == 2  # inclusive UTC day
    assert ids(needs_review=True) == [keep.id]
    assert len(ids(email="%")) == 0  # LIKE wildcards are literal


def test_balance_report_buckets_by_day_week_and_month(db, store):
    # 2024-01-31 is a Wednesday; 2024-02-01 Thursday (same ISO week); 2024-02-05 Monday.
    for day, amount in (("2024-01-31", 1000), ("2024-02-01", 2000), ("2024-02-05", 4000)):
        credit_payment(db, store, make_payment(db, store, amount=amount, created_at=at(day)))
    add_ledger_entry(db, store, "USD", TransactionType.REFUND, -500, at=at("2024-02-05", 18))
    add_ledger_entry(db, store, "USD", TransactionType.PAYOUT, -100, at=at("2024-02-05", 19))  # not in the report
    add_ledger_entry(db, store, "EUR", TransactionType.PAYMENT, 700, at=at("2024-02-01"))

    def report(period):
        rows = reports.balance_report(db, store.id, period=period, date_from=date(2024, 1, 1), date_to=date(2024, 2, 29))
        return [(r.start.isoformat(), r.currency, r.gross, r.fees, r.refunds, r.net) for r in rows]

    # fees: 2.9 % half up of 1000, 2000, 4000 = 29, 58, 116
    assert report(Period.DAY) == [
        ("2024-01-31", "USD", 1000, 29, 0, 971),
        ("2024-02-01", "EUR", 700, 0, 0, 700),
        ("2024-02-01", "USD", 2000, 58, 0, 1942),
        ("2024-02-05", "USD", 4000, 116, 500, 3384),
    ]
    assert report(Period.WEEK) == [
        ("2024-01-29", "EUR", 700, 0, 0, 700),
        ("2024-01-29", "USD", 3000, 87, 0, 2913),
        ("2024-02-05", "USD", 4000, 116, 500, 3384),
    ]
    assert report(Period.MONTH) == [
        ("2024-01-01", "USD", 1000, 29, 0, 971),
        ("2024-02-01", "EUR", 700, 0, 0, 700),
        ("2024-02-01", "USD", 6000, 174, 500, 5326),
    ]


def test_balance_report_range_is_inclusive_and_bounded(db, store):
    credit_payment(db, store, make_payment(db, store, amount=1000, created_at=at("2024-05-01", 0)))
    credit_payment(db, store, make_payment(db, store, amount=3000, created_at=at("2024-05-02", 23)))
    rows = reports.balance_report(db, store.id, period=Period.DAY, date_from=date(2024, 5, 2), date_to=date(2024, 5, 2))
    assert [(r.start, r.gross) for r in rows] == [(date(2024, 5, 2), 3000)]
    with pytest.raises(ValidationFailed):
        reports.balance_report(db, store.id, period=Period.DAY, date_from=date(2024, 5, 2), date_to=date(2024, 5, 1))
    with pytest.raises(ValidationFailed):
        reports.balance_report(db, store.id, period=Period.DAY, date_from=date(2020, 1, 1), date_to=date(2024, 1, 1))


def test_balances_come_from_the_head_rows_and_ledger_pages_newest_first(db, store):
    payment = make_payment(db, store, amount=1000)
    credit_payment(db, store, payment)
    add_ledger_entry(db, store, "EUR", TransactionType.ADJUSTMENT, 300)
    assert [(b.currency, b.available) for b in ledger.balances(db, store.id)] == [("EUR", 300), ("USD", 971)]
    first, more = reports.list_ledger(db, store.id, limit=2)
    assert more and [e.type for e in first] == [TransactionType.ADJUSTMENT, TransactionType.FEE]
    rest, more = reports.list_ledger(db, store.id, before_id=first[-1].id, limit=2)
    assert not more and [e.type for e in rest] == [TransactionType.PAYMENT]
    other = make_store(db, name="Other")
    with pytest.raises(InvalidCursor):  # a cursor from another store
        reports.list_ledger(db, other.id, before_id=first[0].id)


def test_csv_export_has_a_header_major_and_minor_units_and_iso_dates(db, store):
    make_payment(db, store, amount=1250, email="=cmd@example.com", created_at=at("2024-03-10"))
    make_payment(db, store, amount=999, currency="JPY", email="b@example.com", created_at=at("2024-03-11"))
    text = "".join(exports.payments_csv(db, store.id))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    jpy, usd = rows
    assert (usd["amount"], usd["amount_minor"], usd["fee"], usd["fee_minor"], usd["net"]) == ("12.50", "1250", "0.36", "36", "12.14")
    assert (jpy["amount"], jpy["amount_minor"]) == ("999", "999")
    assert usd["created_at"] == "2024-03-10T12:00:00+00:00"
    assert usd["email"] == "'=cmd@example.com"  # never a spreadsheet formula


def test_csv_export_reads_in_batches(db, store, monkeypatch):
    for n in range(5):
        make_payment(db, store, amount=100 + n)
    real = reports.list_payments
    calls = []
    monkeypatch.setattr(reports, "list_payments", lambda *a, **k: calls.append(k["limit"]) or real(*a, **k))
    rows = list(reports.iter_payments(db, store.id, batch=2))
    assert [p.amount for p in rows] == [104, 103, 102, 101, 100] and calls == [2, 2, 2]


def test_store_overview_counts_payments_revenue_and_page_counters(db, store):
    page = make_page(db, store)
    page_stats.record_view(db, page.id, 10)
    page_stats.record_session(db, page.id, 4)
    page_stats.record_conversion(db, page.id, revenue=3000)
    credit_payment(db, store, make_payment(db, store, amount=1000))
    credit_payment(db, store, make_payment(db, store, amount=2000))
    credit_payment(db, store, make_payment(db, store, amount=500, currency="EUR"))
    other = make_store(db, name="Other")
    credit_payment(db, other, make_payment(db, other, amount=9999))
    overview = reports.store_overview(db, store)
    assert overview.payments == 3
    assert overview.revenue == [{"currency": "USD", "amount": 3000}, {"currency": "EUR", "amount": 500}]
    assert (overview.page_views, overview.checkout_sessions, overview.conversions) == (10, 4, 1)
    assert overview.conversion_rate == 0.25


def test_revenue_by_day_fills_empty_days(db, store):
    make_payment(db, store, amount=1000, created_at=at("2024-03-09", 1))
    make_payment(db, store, amount=500, created_at=at("2024-03-09", 23))
    make_payment(db, store, amount=700, created_at=at("2024-03-07"))
    make_payment(db, store, amount=800, created_at=at("2024-03-01"))  # before the window
    points = reports.revenue_by_day(db, store.id, "USD", days=5, today=date(2024, 3, 10))
    assert [(p.day.day, p.amount) for p in points] == [(6, 0), (7, 700), (8, 0), (9, 1500), (10, 0)]
