"""The per-store ledger (SPEC §3 BalanceTransaction): append-only rows in minor units.

Each store and currency has one StoreBalance row, the head of its chain. Every writer locks
that row before appending, so concurrent writers queue on it and the chain cannot fork: row
n's `balance_after` is row n−1's plus row n's amount, sequences run 1, 2, 3 … without gaps,
and `available` always equals the sum of the ledger (reading a balance never sums the
ledger). The lock is taken by the UPDATE that advances the head (`available + sum`,
`last_sequence + n`, RETURNING the new values): one round trip instead of SELECT … FOR UPDATE
and a later UPDATE. A concurrent writer's UPDATE waits for the lock and then adds to the
committed head (PostgreSQL re-evaluates it on the newest row version), so the new rows'
sequences and balances follow from what the UPDATE returned. Nothing here commits.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from checkie import money
from checkie.database import UTCDateTime, dialect_insert, utcnow
from checkie.payments.models import BalanceTransaction, Payment, StoreBalance, TransactionType


@dataclass(frozen=True)
class Entry:
    """One ledger row to append: a signed amount (minor units; + credits the store)."""

    type: TransactionType
    amount: int
    payment_id: int | None = None
    description: str | None = None
    payout_id: int | None = None


def fee_for(amount: int) -> int:
    """The platform's fee on a payment of `amount` minor units: PLATFORM_FEE_PERCENT of it,
    rounded half up once (2.9 % of 1050 = 30.45 → 30; of 1500 = 43.5 → 44)."""
    return money.percent_of(amount, current_app.config["PLATFORM_FEE_PERCENT"])


def post_entries(db: Session, store_id: int, currency: str, entries: list[Entry]) -> list[BalanceTransaction]:
    """Append `entries` to the store's ledger in `currency`, in order, under the balance row's
    lock (created at zero if this is the currency's first entry). Returns the new rows."""
    currency = currency.upper()
    db.flush()  # pending writes first: the head stays locked from here until commit
    if entries and db.get_bind().dialect.name == "postgresql":
        rows = _append_in_one_statement(db, store_id, currency, entries)
        if not rows:  # the currency's first entry: no head to advance yet
            _create_head(db, store_id, currency)
            rows = _append_in_one_statement(db, store_id, currency, entries)
        _expire_loaded_head(db, store_id, currency)
        return rows
    available, last_sequence = _advance_head(db, store_id, currency, entries)
    # Walk back from the head the UPDATE returned to where these entries start.
    balance = available - sum(entry.amount for entry in entries)
    sequence = last_sequence - len(entries)
    rows = []
    for entry in entries:
        sequence += 1
        balance += entry.amount
        rows.append(BalanceTransaction(
            store_id=store_id, currency=currency, type=entry.type, amount=entry.amount,
            balance_after=balance, sequence=sequence,
            payment_id=entry.payment_id, description=entry.description, payout_id=entry.payout_id,
        ))
    db.add_all(rows)
    db.flush()
    return rows


def balances(db: Session, store_id: int) -> list[StoreBalance]:
    """The store's balance in every currency it has a ledger in, by currency code."""
    return list(db.scalars(sa.select(StoreBalance).where(StoreBalance.store_id == store_id).order_by(StoreBalance.currency)))


def credit_payment(db: Session, payment: Payment, description: str) -> None:
    """A captured payment's two rows: `payment` (+amount, with `description`) and `fee` (−fee)."""
    post_entries(db, payment.store_id, payment.currency, [
        Entry(TransactionType.PAYMENT, payment.amount, payment.id, description),
        Entry(TransactionType.FEE, -payment.fee, payment.id, "Platform fee"),
    ])


def lock_balance(db: Session, store_id: int, currency: str) -> int:
    """Lock the store's balance row in `currency` (SELECT … FOR UPDATE) until this transaction
    ends and return what it holds (0, and nothing locked, before the currency's first entry):
    a writer that must not overdraw checks the balance under the same lock it appends under."""
    db.flush()
    available = db.scalar(
        sa.select(StoreBalance.available)
        .where(StoreBalance.store_id == store_id, StoreBalance.currency == currency.upper())
        .with_for_update()
    )
    return available if available is not None else 0


def balance_of(db: Session, store_id: int, currency: str) -> int:
    """Available balance (minor units) in one currency; 0 before its first entry."""
    head = db.get(StoreBalance, (store_id, currency.upper()))
    return head.available if head is not None else 0


def _append_in_one_statement(db: Session, store_id: int, currency: str, entries: list[Entry]) -> list[BalanceTransaction]:
    """PostgreSQL: the head's UPDATE (which takes its lock, as in `_advance_head`) as a CTE whose
    RETURNING numbers the rows the same statement inserts: one round trip instead of two. Each
    entry's sequence and balance_after are the new head's minus what the entries after it add.
    No rows when the head does not exist yet (the UPDATE matched nothing).

    The entries are bound parameters of one SELECT each (UNION ALL), not a VALUES list, whose
    data SQLAlchemy would put in the statement's cache key: compiled once per number of entries."""
    head = _head_update(store_id, currency, entries).cte("head")
    total, count, running, now = sum(entry.amount for entry in entries), len(entries), 0, utcnow()
    selects = []
    for position, entry in enumerate(entries, start=1):
        running += entry.amount
        selects.append(sa.select(
            sa.literal(store_id, sa.BigInteger), sa.literal(currency, sa.String),
            sa.literal(entry.type.value, sa.String), sa.literal(entry.amount, sa.BigInteger),
            head.c.available + sa.literal(running - total, sa.BigInteger),
            head.c.last_sequence + sa.literal(position - count, sa.BigInteger),
            sa.literal(entry.payment_id, sa.BigInteger), sa.literal(entry.description, sa.String),
            sa.literal(entry.payout_id, sa.BigInteger), sa.literal(now, UTCDateTime()),
        ))
    columns = ["store_id", "currency", "type", "amount", "balance_after", "sequence", "payment_id", "description",
               "payout_id", "created_at"]
    inserted = db.scalars(
        sa.insert(BalanceTransaction).from_select(columns, sa.union_all(*selects)).returning(BalanceTransaction)
    ).all()
    return sorted(inserted, key=lambda row: row.sequence)


def _create_head(db: Session, store_id: int, currency: str) -> None:
    """The currency's balance row at zero (a concurrent creator wins: ON CONFLICT DO NOTHING)."""
    db.execute(
        dialect_insert(db)(StoreBalance.__table__)
        .values(store_id=store_id, currency=currency, available=0, last_sequence=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["store_id", "currency"])
    )


def _head_update(store_id: int, currency: str, entries: list[Entry]):
    """UPDATE the head by `entries` (see `_advance_head`), RETURNING its new available and last_sequence."""
    balances = StoreBalance.__table__
    payments = [entry for entry in entries if entry.type is TransactionType.PAYMENT]
    return (
        sa.update(balances)
        .where(balances.c.store_id == store_id, balances.c.currency == currency)
        .values(available=balances.c.available + sum(entry.amount for entry in entries),
                last_sequence=balances.c.last_sequence + len(entries),
                payment_count=balances.c.payment_count + len(payments),
                payment_volume=balances.c.payment_volume + sum(entry.amount for entry in payments),
                updated_at=utcnow())
        .returning(balances.c.available, balances.c.last_sequence)
    )


def _expire_loaded_head(db: Session, store_id: int, currency: str) -> None:
    """A StoreBalance loaded in this session must re-read the head, not keep the old numbers."""
    loaded = db.identity_map.get(Session.identity_key(StoreBalance, (store_id, currency)))
    if loaded is not None:
        db.expire(loaded, ["available", "last_sequence", "payment_count", "payment_volume", "updated_at"])


def _advance_head(db: Session, store_id: int, currency: str, entries: list[Entry]) -> tuple[int, int]:
    """Add `entries` to the StoreBalance head (their sum to `available`, their number to
    `last_sequence`, the `payment` ones to the payment totals), locking it for this
    transaction, and return its new (available, last_sequence). The row is created at zero
    first only when the UPDATE finds none: on PostgreSQL with ON CONFLICT DO NOTHING (a
    concurrent creator wins, and our UPDATE then waits for its lock); on SQLite the UPDATE has
    already taken the database's write lock, so no other writer reads the head meanwhile."""
    advance = _head_update(store_id, currency, entries)
    head = db.execute(advance).one_or_none()
    if head is None:
        _create_head(db, store_id, currency)
        head = db.execute(advance).one()
    _expire_loaded_head(db, store_id, currency)
    return head.available, head.last_sequence
