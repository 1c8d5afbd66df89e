"""The ledger (SPEC §3 BalanceTransaction): fees round half up once, every row chains from the
one before, and concurrent writers never fork the chain."""
from __future__ import annotations

from decimal import Decimal

import pytest

from checkie.payments import ledger
from checkie.payments.ledger import Entry
from checkie.payments.models import StoreBalance, TransactionType
from tests.concurrency import run_concurrently
from tests.ledger import assert_ledger_consistent, ledger_rows
from tests.factories import make_store

PAYMENT, FEE, REFUND = TransactionType.PAYMENT, TransactionType.FEE, TransactionType.REFUND


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        (1000, 29),     # 29.000
        (1050, 30),     # 30.45 → 30
        (1017, 29),     # 29.493 → 29
        (1500, 44),     # 43.5 → 44: half up, not half even
        (500, 15),      # 14.5 → 15
        (2500, 73),     # 72.5 → 73
        (1, 0),         # 0.029 → 0
        (17, 0),        # 0.493 → 0
        (18, 1),        # 0.522 → 1
        (123456789, 3580247),  # 3580246.881 → 3580247
    ],
)
def test_fee_is_the_platform_percent_rounded_half_up(app, amount, fee):
    with app.app_context():
        assert app.config["PLATFORM_FEE_PERCENT"] == Decimal("0.029")
        assert ledger.fee_for(amount) == fee


def test_fee_follows_the_configured_percent(app, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_FEE_PERCENT", Decimal("0.05"))
    with app.app_context():
        assert ledger.fee_for(1010) == 51  # 50.5 → 51
        assert ledger.fee_for(1009) == 50  # 50.45 → 50


def test_first_entry_creates_the_balance_and_entries_chain(db, store):
    rows = ledger.post_entries(db, store.id, "usd", [Entry(PAYMENT, 1000, description="first"), Entry(FEE, -29)])
    assert [(r.sequence, r.type, r.amount, r.balance_after, r.currency) for r in rows] == [
        (1, PAYMENT, 1000, 1000, "USD"), (2, FEE, -29, 971, "USD"),
    ]
    more = ledger.post_entries(db, store.id, "USD", [Entry(PAYMENT, 2500), Entry(FEE, -73), Entry(REFUND, -500)])
    assert [(r.sequence, r.balance_after) for r in more] == [(3, 3471), (4, 3398), (5, 2898)]
    db.commit()
    assert assert_ledger_consistent(db, store.id, "USD") == 2898
    assert ledger.balance_of(db, store.id, "usd") == 2898


def test_each_currency_and_store_has_its_own_chain(db, store):
    other = make_store(db, name="Other Shop")
    ledger.post_entries(db, store.id, "USD", [Entry(PAYMENT, 1000)])
    ledger.post_entries(db, store.id, "EUR", [Entry(PAYMENT, 700), Entry(FEE, -20)])
    ledger.post_entries(db, other.id, "USD", [Entry(PAYMENT, 50)])
    db.commit()
    assert [(b.currency, b.available, b.last_sequence) for b in ledger.balances(db, store.id)] == [
        ("EUR", 680, 2), ("USD", 1000, 1),
    ]
    assert [(b.currency, b.available) for b in ledger.balances(db, other.id)] == [("USD", 50)]
    assert ledger.balances(db, other.id + 1000) == []
    assert ledger.balance_of(db, other.id, "EUR") == 0
    for store_id, currency in ((store.id, "USD"), (store.id, "EUR"), (other.id, "USD")):
        assert_ledger_consistent(db, store_id, currency)


def test_a_loaded_stale_balance_row_is_re_read_under_the_lock(app, db, store):
    ledger.post_entries(db, store.id, "USD", [Entry(PAYMENT, 100)])
    db.commit()
    stale = db.get(StoreBalance, (store.id, "USD"))
    assert stale.available == 100
    # Another transaction appends while this session still holds the row loaded.
    run_concurrently(app, 1, lambda s, _: ledger.post_entries(s, store.id, "USD", [Entry(PAYMENT, 5)]))
    rows = ledger.post_entries(db, store.id, "USD", [Entry(FEE, -3)])
    assert (rows[0].sequence, rows[0].balance_after) == (3, 102)
    db.commit()
    assert assert_ledger_consistent(db, store.id, "USD") == 102


def test_concurrent_writers_never_fork_the_chain(app, db, store):
    """20 threads post a payment + fee pair at once, on a store whose balance row does not exist
    yet (they also race to create it): 40 rows, sequences 1..40, and the balance is their sum."""
    store_id = store.id
    amounts = [1000 + 17 * i for i in range(20)]
    fees = [ledger_fee(app, amount) for amount in amounts]

    def pay(session, index):
        entries = [Entry(PAYMENT, amounts[index]), Entry(FEE, -fees[index])]
        return ledger.post_entries(session, store_id, "USD", entries)[0].sequence

    sequences = run_concurrently(app, 20, pay)
    assert sorted(sequences) == list(range(1, 41, 2))  # each pair stayed together
    expected = sum(amounts) - sum(fees)
    assert assert_ledger_consistent(db, store_id, "USD") == expected
    pairs = ledger_rows(db, store_id, "USD")
    for payment_row, fee_row in zip(pairs[::2], pairs[1::2]):
        assert (payment_row.type, fee_row.type) == (PAYMENT, FEE)
        assert fee_row.amount == -ledger_fee(app, payment_row.amount)


def ledger_fee(app, amount: int) -> int:
    with app.app_context():
        return ledger.fee_for(amount)
