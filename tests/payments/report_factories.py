"""Rows for the merchant's read-only views, made directly with the models (the services that
normally write them belong to other modules): sessions with transitions and attempts,
payments, customers and ledger entries that keep StoreBalance's chain."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from checkie.checkout.models import (
    CheckoutSession,
    CheckoutSessionTransition,
    CheckoutState,
)
from checkie.customers.models import Customer
from checkie.database import utcnow
from checkie.payments.models import (
    AttemptStatus,
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    PaymentStatus,
    StoreBalance,
    TransactionType,
)
from tests.catalog.coupon_helpers import make_page


def make_session(db, store, *, page=None, state: CheckoutState = CheckoutState.OPEN, email: str | None = "shopper@example.com",
                 total: int = 2500, currency: str = "USD", created_at: datetime | None = None, history=(),
                 attempts=()) -> CheckoutSession:
    """`history`: (from, event, to) triples; `attempts`: (status, intent id, failure code) triples."""
    page = page or make_page(db, store, title=f"Page {secrets.token_hex(3)}")
    created_at = created_at or utcnow()
    checkout = CheckoutSession(
        id="cs_" + secrets.token_urlsafe(24), store_id=store.id, page_id=page.id, state=state, email=email,
        name="Sam Shopper", subtotal=total, discount=0, total=total, currency=currency, attempt_count=len(attempts),
        expires_at=created_at + timedelta(hours=1), created_at=created_at,
        completed_at=created_at + timedelta(minutes=5) if state is CheckoutState.COMPLETED else None,
    )
    db.add(checkout)
    db.flush()
    for n, (from_state, event, to_state) in enumerate(history):
        db.add(CheckoutSessionTransition(session_id=checkout.id, from_state=from_state, event=event, to_state=to_state,
                                         at=created_at + timedelta(minutes=n + 1)))
    for number, (status, intent, code) in enumerate(attempts, start=1):
        token = secrets.token_urlsafe(24) if status is AttemptStatus.REQUIRES_ACTION else None
        db.add(PaymentAttempt(session_id=checkout.id, number=number, provider="test", provider_intent_id=intent,
                              status=status, amount=total, currency=currency, failure_code=code, action_token=token))
    db.flush()
    return checkout


def make_customer(db, store, *, email: str = "buyer@example.com", name: str | None = "Bea Buyer",
                  created_at: datetime | None = None) -> Customer:
    customer = Customer(store_id=store.id, email=email.lower(), name=name, created_at=created_at or utcnow())
    db.add(customer)
    db.flush()
    return customer


def make_payment(db, store, *, amount: int = 2500, currency: str = "USD", created_at: datetime | None = None,
                 status: PaymentStatus = PaymentStatus.SUCCEEDED, email: str | None = "buyer@example.com",
                 customer: Customer | None = None, session: CheckoutSession | None = None, page_id: int | None = None,
                 refunded: int = 0, needs_review: bool = False, review_reason: str | None = None) -> Payment:
    fee = (amount * 29 + 500) // 1000  # 2.9 %, half up
    payment = Payment(
        store_id=store.id, session_id=session.id if session else None, customer_id=customer.id if customer else None,
        page_id=page_id if page_id is not None else (session.page_id if session else None),
        amount=amount, fee=fee, net=amount - fee, currency=currency, amount_refunded=refunded, status=status,
        provider="test", provider_payment_id="pi_" + secrets.token_hex(12), email=email, needs_review=needs_review,
        review_reason=review_reason, created_at=created_at or utcnow(),
    )
    db.add(payment)
    db.flush()
    return payment


def post(db, store, currency: str, kind: TransactionType, amount: int, *, at: datetime | None = None,
         payment: Payment | None = None) -> BalanceTransaction:
    """Append one ledger row and move the balance head, as payments.ledger does."""
    head = db.get(StoreBalance, (store.id, currency))
    if head is None:
        head = StoreBalance(store_id=store.id, currency=currency, available=0, last_sequence=0, payment_count=0,
                            payment_volume=0)
        db.add(head)
    head.available += amount
    head.last_sequence += 1
    if kind is TransactionType.PAYMENT:
        head.payment_count += 1
        head.payment_volume += amount
    entry = BalanceTransaction(
        store_id=store.id, currency=currency, type=kind, amount=amount, balance_after=head.available,
        sequence=head.last_sequence, payment_id=payment.id if payment else None, created_at=at or utcnow(),
    )
    db.add(entry)
    db.flush()
    return entry


def credit_payment(db, store, payment: Payment, *, at: datetime | None = None) -> None:
    """The two ledger rows of a payment: +amount, −fee."""
    at = at or payment.created_at
    post(db, store, payment.currency, TransactionType.PAYMENT, payment.amount, at=at, payment=payment)
    post(db, store, payment.currency, TransactionType.FEE, -payment.fee, at=at, payment=payment)
