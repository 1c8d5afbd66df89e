"""Lookups on payments shared by the domain (the merchant's read side lives in payments/reports.py),
and deleting a store: only payments knows whether a store has taken money, and stores come
before payments in the domain line, so the rule lives here."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.errors import Conflict
from checkie.payments.models import BalanceTransaction, Payment
from checkie.stores.models import Store

#: Built once, the ids bound at execution (every PSP success event reads it): SQLAlchemy reuses
#: the statement's cache key instead of deriving one for a new SELECT per event.
_PAYMENT_BY_PROVIDER_ID = sa.select(Payment).where(
    Payment.provider == sa.bindparam("provider"), Payment.provider_payment_id == sa.bindparam("provider_payment_id")
)


def payment_by_provider_id(db: Session, provider: str, provider_payment_id: str) -> Payment | None:
    """The payment recorded for a PSP payment intent, if any (not store-scoped: PSP side)."""
    return db.scalar(_PAYMENT_BY_PROVIDER_ID, {"provider": provider, "provider_payment_id": provider_payment_id})


def delete_store(db: Session, store: Store) -> None:
    """Delete the store; the database cascades its members, invitations, API keys, catalog and
    unpaid checkouts. A store that has taken money keeps its history (payments and the ledger
    are never deleted): Conflict. Who may do this (the owner) is checked by the caller through
    `checkie.stores.access`."""
    for model in (Payment, BalanceTransaction):
        if db.scalar(sa.select(sa.literal(True)).where(model.store_id == store.id).limit(1)):
            raise Conflict(
                "This store has taken payments; their records and its ledger are kept, so it cannot be deleted."
            )
    db.delete(store)
    db.flush()
