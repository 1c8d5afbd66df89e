"""The ledger's invariant, checked the same way by every test that moves money."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.payments.models import BalanceTransaction, StoreBalance, TransactionType


def ledger_rows(db, store_id: int, currency: str) -> list[BalanceTransaction]:
    return list(db.scalars(
        sa.select(BalanceTransaction)
        .where(BalanceTransaction.store_id == store_id, BalanceTransaction.currency == currency)
        .order_by(BalanceTransaction.sequence)
    ))


def assert_ledger_consistent(db, store_id: int, currency: str) -> int:
    """The invariant: sequences 1..N without gaps, each balance_after = previous + amount, the
    StoreBalance head equals the last row and the sum of the ledger, and its payment totals
    count and sum the `payment` rows. Returns the balance."""
    rows = ledger_rows(db, store_id, currency)
    head = db.get(StoreBalance, (store_id, currency), populate_existing=True)
    assert [row.sequence for row in rows] == list(range(1, len(rows) + 1))
    running = 0
    for row in rows:
        running += row.amount
        assert row.balance_after == running, row.sequence
    assert head.available == running == sum(row.amount for row in rows)
    assert head.last_sequence == len(rows)
    payments = [row.amount for row in rows if row.type is TransactionType.PAYMENT]
    assert (head.payment_count, head.payment_volume) == (len(payments), sum(payments))
    return running
