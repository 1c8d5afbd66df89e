"""The per-store ledger (SPEC §3 BalanceTransaction): append-only rows in minor units.

Each store and currency has one StoreBalance row, the head of its chain. Every writer locks
that row (`SELECT … FOR UPDATE`) before appending, so concurrent writers queue on it and the
chain cannot fork: row n's `balance_after` is row n−1's plus row n's amount, sequences run
1, 2, 3 … without gaps, and `available` always equals the sum of the ledger (reading a
balance never sums the ledger). Nothing here commits.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from checkie import money
from checkie.database import utcnow
from checkie.payments.models import BalanceTransaction, StoreBalance, TransactionType


@dataclass(frozen=True)
class Entry:
    """One ledger row to append: a signed amount (minor units; + credits the store)."""

    type: TransactionType
    amount: int
    payment_id: int | None = None
    description: str | None = None


def fee_for(amount: int) -> int:
    """The platform's fee on a payment of `amount` minor units: PLATFORM_FEE_PERCENT of it,
    rounded half up once (2.9 % of 1050 = 30.45 → 30; of 1500 = 43.5 → 44)."""
    return money.percent_of(amount, current_app.config["PLATFORM_FEE_PERCENT"])


def post_entries(db: Session, store_id: int, currency: str, entries: list[Entry]) -> list[BalanceTransaction]:
    """Append `entries` to the store's ledger in `currency`, in order, under the balance row's
    lock (created at zero if this is the currency's first entry). Returns the new rows."""
    currency = currency.upper()
    head = _locked_head(db, store_id, currency)
    rows = []
    for entry in entries:
        head.last_sequence += 1
        head.available += entry.amount
        rows.append(BalanceTransaction(
            store_id=store_id, currency=currency, type=entry.type, amount=entry.amount,
            balance_after=head.available, sequence=head.last_sequence,
            payment_id=entry.payment_id, description=entry.description,
        ))
    head.updated_at = utcnow()
    db.add_all(rows)
    db.flush()
    return rows


def balances(db: Session, store_id: int) -> list[StoreBalance]:
    """The store's balance in every currency it has a ledger in, by currency code."""
    return list(db.scalars(sa.select(StoreBalance).where(StoreBalance.store_id == store_id).order_by(StoreBalance.currency)))


def balance_of(db: Session, store_id: int, currency: str) -> int:
    """Available balance (minor units) in one currency; 0 before its first entry."""
    head = db.get(StoreBalance, (store_id, currency.upper()))
    return head.available if head is not None else 0


def _locked_head(db: Session, store_id: int, currency: str) -> StoreBalance:
    """The StoreBalance row, created if missing, locked for this transaction. The insert runs
    first on every call: on PostgreSQL a no-op when the row exists (ON CONFLICT DO NOTHING),
    and on SQLite it takes the database's write lock before we read, so two embedded-profile
    writers cannot both read the same head."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(
        insert(StoreBalance)
        .values(store_id=store_id, currency=currency, available=0, last_sequence=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["store_id", "currency"])
    )
    return db.scalars(
        sa.select(StoreBalance)
        .where(StoreBalance.store_id == store_id, StoreBalance.currency == currency)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
