"""The test provider's payouts (SPEC §5): Stripe's test bank accounts, and an idempotency record
of its own so that a repeated key answers the first result instead of paying again.

The record is written and committed on a connection of its own, outside the caller's
transaction, as a real PSP's would be: a worker that dies after the call (its transaction rolled
back) finds the payout made when it asks again with the same key."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from checkie.database import UTCDateTime, dialect_insert, utcnow
from checkie.extensions import Model, db
from checkie.providers.base import PayoutResult

#: Stripe's test account numbers: paid, and failed for want of an account.
PAID_ACCOUNT = "000123456789"
NO_ACCOUNT = "000111111116"
#: Stripe's test routing number.
TEST_ROUTING_NUMBER = "110000000"


class TestProviderPayout(Model):
    """One payout the test provider made, by the idempotency key it was asked with."""

    __test__ = False  # not a pytest test class, whatever its name
    __tablename__ = "test_provider_payouts"

    idempotency_key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    payout_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20))
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def outcome_for(account_number: str) -> tuple[str, str | None]:
    """`000123456789` is paid; `000111111116`, and any number that is not a test account, fails
    with `no_account` (the test provider pays no real bank)."""
    if account_number == PAID_ACCOUNT:
        return "paid", None
    return "failed", "no_account"


def pay_once(*, amount: int, currency: str, account_number: str, idempotency_key: str) -> PayoutResult:
    """Record the payout under `idempotency_key` unless one is recorded already (a concurrent
    caller with the same key loses the insert and reads the winner's), and answer the record."""
    status, failure_code = outcome_for(account_number)
    table = TestProviderPayout.__table__
    with db.engine.begin() as conn:
        conn.execute(
            dialect_insert(conn)(table)
            .values(idempotency_key=idempotency_key, payout_id="po_test_" + secrets.token_hex(12),
                    amount=amount, currency=currency.lower(), status=status, failure_code=failure_code,
                    created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        row = conn.execute(sa.select(table).where(table.c.idempotency_key == idempotency_key)).one()
    return PayoutResult(row.payout_id, row.status, failure_code=row.failure_code)
