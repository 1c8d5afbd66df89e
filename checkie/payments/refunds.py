"""Refunds (SPEC §3 Refund, §6.6): money given back on a payment, any number of times while
the refunded total stays within the payment's amount.

The check and the move happen under the payment's row lock (SELECT … FOR UPDATE), so
concurrent refunds of one payment queue and each sees what the one before it committed: a
racy read could let two refunds of the last 3,000 both pass. The lock is held across the
provider call; the provider's idempotency key is derived from the refund's id, so a retried
call cannot refund twice. Locks are taken payment first, then the store's balance row
(ledger), the order every refund takes them in. Nothing here commits.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie import money, providers
from checkie.database import utcnow
from checkie.errors import NotFound, ValidationFailed
from checkie.notifications.services import queue_email
from checkie.pagination import Slice, keyset_page
from checkie.payments import ledger
from checkie.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    TransactionType,
)
from checkie.stores.models import Store
from checkie.webhooks.services import record_event

MAX_NOTE_LENGTH = 500


class RefundExceedsPayment(ValidationFailed):
    """More than what is left of the payment (or nothing at all) was asked back."""

    code = "refund_exceeds_payment"


@dataclass(frozen=True)
class RefundedPayment:
    """What a `payment.refunded` event is about: the payment, with the refund that moved it."""

    payment: Payment
    refund: Refund


def refundable(payment: Payment) -> int:
    """Minor units still left to refund on the payment."""
    return payment.amount - payment.amount_refunded


def refund_payment(db: Session, payment: Payment, *, amount: int, reason: str | None, note: str | None = None) -> Refund:
    """Refund `amount` minor units of `payment` through its provider. On success the payment's
    refunded total and status move, the ledger gets one `refund` row (−amount: the fee is not
    returned, and the balance may go negative), the customer is emailed and `payment.refunded`
    is recorded. A provider's refusal is kept as a `failed` refund and moves nothing. Who may
    refund (owners and admins) is the caller's check."""
    chosen_reason = _reason(reason)
    note = _note(note)
    payment = _lock(db, payment.id)
    left = refundable(payment)
    if amount <= 0 or amount > left:
        why = "Enter an amount above zero." if amount <= 0 else f"At most {_format(left, payment.currency)} is left to refund."
        raise RefundExceedsPayment(
            f"A refund must be more than zero and at most what is left of the payment ({_format(left, payment.currency)}).",
            fields={"amount": [why]},
        )
    refund = Refund(payment_id=payment.id, store_id=payment.store_id, amount=amount, currency=payment.currency,
                    reason=chosen_reason, note=note, status=RefundStatus.PENDING)
    db.add(refund)
    db.flush()  # the id makes the provider's idempotency key
    store = db.get_one(Store, payment.store_id)
    result = providers.of(store, payment.provider).refund(
        payment_intent_id=payment.provider_payment_id, amount=amount, currency=payment.currency.lower(),
        idempotency_key=f"refund_{refund.id}",
    )
    refund.provider_refund_id = result.refund_id
    if result.status != "succeeded":
        refund.status = RefundStatus.FAILED
        refund.failure_code = (result.failure_code or "refund_failed")[:100]
        db.flush()
        return refund
    _apply(db, payment, refund)
    return refund


def _apply(db: Session, payment: Payment, refund: Refund) -> None:
    refund.status = RefundStatus.SUCCEEDED
    refund.succeeded_at = utcnow()
    payment.amount_refunded += refund.amount
    payment.status = PaymentStatus.REFUNDED if refundable(payment) == 0 else PaymentStatus.PARTIALLY_REFUNDED
    store = db.get_one(Store, payment.store_id)
    _queue_refund_email(db, store, payment, refund)
    record_event(db, store.id, "payment.refunded", RefundedPayment(payment, refund))
    # The balance row is locked until commit: take it last.
    ledger.post_entries(db, payment.store_id, payment.currency, [
        ledger.Entry(TransactionType.REFUND, -refund.amount, payment.id, f"Refund of payment {payment.provider_payment_id}"),
    ])


def list_refunds(db: Session, store_id: int, *, payment_id: int | None = None,
                 before_id: int | None = None, limit: int = 25) -> Slice[Refund]:
    """The store's refunds (or one payment's), newest first."""
    stmt = sa.select(Refund).where(Refund.store_id == store_id)
    if payment_id is not None:
        stmt = stmt.where(Refund.payment_id == payment_id)
    return keyset_page(db, stmt, Refund.id, after=before_id, limit=limit)


def get_refund(db: Session, store_id: int, refund_id: int) -> Refund:
    refund = db.get(Refund, refund_id) if 0 < refund_id < 2**63 else None
    if refund is None or refund.store_id != store_id:
        raise NotFound("No such refund.")
    return refund


def _lock(db: Session, payment_id: int) -> Payment:
    """The payment, locked and re-read: a refund that waited sees what the one before committed."""
    return db.scalars(
        sa.select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    ).one()


def _reason(reason: str | None) -> RefundReason:
    if reason is None or reason == "":
        return RefundReason.REQUESTED_BY_CUSTOMER
    try:
        return RefundReason(reason)
    except ValueError:
        choices = ", ".join(choice.value for choice in RefundReason)
        raise ValidationFailed.on("reason", f"Choose one of: {choices}.") from None


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationFailed.on("note", f"At most {MAX_NOTE_LENGTH} characters.")
    return note or None


def _queue_refund_email(db: Session, store: Store, payment: Payment, refund: Refund) -> None:
    if not payment.email:
        return
    queue_email(
        db, to=payment.email, template="refund", subject=f"Your refund from {store.name}",
        store_name=store.name, amount=_format(refund.amount, refund.currency),
        payment_amount=_format(payment.amount, payment.currency), payment_id=payment.id,
        fully_refunded=payment.status is PaymentStatus.REFUNDED,
    )


def _format(amount: int, currency: str) -> str:
    if money.is_currency(currency):
        return money.format_money(amount, currency)
    return f"{amount} {currency} (minor units)"
