"""Lookups on payments shared by the domain (the merchant's read side lives in payments/reports.py)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.payments.models import Payment


def payment_by_provider_id(db: Session, provider: str, provider_payment_id: str) -> Payment | None:
    """The payment recorded for a PSP payment intent, if any (not store-scoped: PSP side)."""
    return db.scalar(
        sa.select(Payment).where(Payment.provider == provider, Payment.provider_payment_id == provider_payment_id)
    )
