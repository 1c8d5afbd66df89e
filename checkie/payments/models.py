from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkie.catalog.models import Json
from checkie.checkout.models import CheckoutSession
from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model


class AttemptStatus(str, enum.Enum):
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentAttempt(Model):
    """One try at paying a checkout session (a PSP payment intent)."""

    __tablename__ = "payment_attempts"
    __table_args__ = (sa.UniqueConstraint("session_id", "number", name="uq_payment_attempts_session_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.ForeignKey("checkout_sessions.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3: a session allows three attempts.
    number: Mapped[int] = mapped_column(sa.Integer)
    provider: Mapped[str] = mapped_column(sa.String(20))
    #: The PSP's payment intent id (`pi_…`); unique across the platform.
    provider_intent_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus, "attempt_status"), default=AttemptStatus.PROCESSING)
    #: Minor units: what was asked of the PSP (the session's total at the time).
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    payment_method: Mapped[str | None] = mapped_column(sa.String(100))
    #: The authentication page while `requires_action`.
    next_action_url: Mapped[str | None] = mapped_column(sa.String(2048))
    #: The capability in the test provider's 3DS URL (192 random bits): the step is found only
    #: through it. Stored as is, because `next_action_url` carries it anyway.
    action_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Stripe's `client_secret` of the intent, for Stripe.js in the shopper's browser while it
    #: waits for 3-D Secure (it lets that browser confirm this one intent, nothing else).
    client_secret: Mapped[str | None] = mapped_column(sa.String(255))
    #: The PSP customer the card was saved to when the browser sent a card token (Stripe.js):
    #: a subscription's renewals charge that customer's card.
    provider_customer_id: Mapped[str | None] = mapped_column(sa.String(100))
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    checkout: Mapped[CheckoutSession] = relationship()


class PaymentStatus(str, enum.Enum):
    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Payment(Model):
    """Money the PSP captured for a store. Exactly one per provider payment id (a unique
    constraint, so 200 concurrent deliveries of one event record one payment)."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_payment_id", name="uq_payments_provider_payment"),
        sa.CheckConstraint("amount > 0 AND fee >= 0", name="amounts_valid"),
        sa.CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount", name="refunded_within_amount"),
        # Keyset pagination of a store's payments, newest first (a b-tree reads both ways).
        sa.Index("ix_payments_store_id_id", "store_id", "id"),
        sa.Index("ix_payments_store_created", "store_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="RESTRICT"))
    session_id: Mapped[str | None] = mapped_column(sa.ForeignKey("checkout_sessions.id", ondelete="SET NULL"), index=True)
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pages.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    #: The subscription this pays a period of (its first checkout or a renewal).
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True)
    #: Minor units of `currency`; fee is the platform's cut, net = amount − fee.
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    fee: Mapped[int] = mapped_column(sa.BigInteger)
    net: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_refunded: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"), default=PaymentStatus.SUCCEEDED)
    provider: Mapped[str] = mapped_column(sa.String(20))
    #: The payment intent id (`pi_…`).
    provider_payment_id: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    #: Captured money that did not fit its session (already final, or a different amount):
    #: recorded and credited all the same, and shown to the merchant for review.
    needs_review: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(sa.String(200))
    #: What was sold, frozen when the money was captured (checkout.lines: page title, variant
    #: options with their deltas, answers under their labels, coupon, amounts). None only for a
    #: payment recorded before lines existed whose session was gone.
    line: Mapped[dict | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    checkout: Mapped[CheckoutSession | None] = relationship()

    # The parts of the frozen line that every view of a payment names (JSON, webhooks' data).
    @property
    def page_title(self) -> str | None:
        return (self.line or {}).get("page", {}).get("title")

    @property
    def line_items(self) -> list[dict]:
        return (self.line or {}).get("items", [])

    @property
    def custom_fields(self) -> list[dict]:
        return (self.line or {}).get("answers", [])

    @property
    def coupon_code(self) -> str | None:
        return ((self.line or {}).get("coupon") or {}).get("code")


class RefundReason(str, enum.Enum):
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    OTHER = "other"


class RefundStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(Model):
    """Money given back on a payment through the PSP. The payment's refunded total moves only
    when a refund succeeds, under the payment's row lock (payments.refunds)."""

    __tablename__ = "refunds"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        # Keyset pagination of a store's refunds, newest first.
        sa.Index("ix_refunds_store_id_id", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="RESTRICT"))
    #: Minor units of `currency` (the payment's).
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[RefundReason] = mapped_column(str_enum(RefundReason, "refund_reason"))
    #: The merchant's own words, for their records (never sent to the PSP or the customer).
    note: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus, "refund_status"), default=RefundStatus.PENDING)
    #: The PSP's refund id (`re_…`), once it answered.
    provider_refund_id: Mapped[str | None] = mapped_column(sa.String(100))
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship()


class TransactionType(str, enum.Enum):
    PAYMENT = "payment"
    FEE = "fee"
    REFUND = "refund"
    PAYOUT = "payout"
    PAYOUT_REVERSAL = "payout_reversal"
    ADJUSTMENT = "adjustment"


class StoreBalance(Model):
    """The head of a store's ledger in one currency. Every ledger writer locks this row
    (SELECT … FOR UPDATE) first, so concurrent writers cannot fork the balance_after chain,
    and reading a balance never sums the ledger."""

    __tablename__ = "store_balances"

    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="RESTRICT"), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    available: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Sequence number of the newest ledger row (0 before the first).
    last_sequence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Running totals of the ledger's `payment` rows (how many, and their sum in minor units):
    #: the store overview's payments and revenue, read here instead of aggregating payments.
    payment_count: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    payment_volume: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BalanceTransaction(Model):
    """The ledger: append-only. Row n's balance_after = row n−1's balance_after + row n's amount."""

    __tablename__ = "balance_transactions"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "currency", "sequence", name="uq_balance_transactions_sequence"),
        sa.Index("ix_balance_transactions_store_created", "store_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    type: Mapped[TransactionType] = mapped_column(str_enum(TransactionType, "transaction_type"))
    #: Signed minor units: + credits the store, − debits it.
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    #: 1, 2, 3 … per store and currency, without gaps.
    sequence: Mapped[int] = mapped_column(sa.BigInteger)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The payout a `payout` or `payout_reversal` row moved money for.
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payouts.id", ondelete="RESTRICT"), index=True)


class ProviderEvent(Model):
    """An inbound PSP webhook event, stored once: a duplicate delivery is a no-op."""

    __tablename__ = "provider_events"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="uq_provider_events_provider_event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(100))
    payload: Mapped[dict] = mapped_column(Json)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventDeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class TestProviderEvent(Model):
    """One event the built-in test provider reports to our own `/api/webhooks/test`. Written in
    the transaction that decided the outcome (an outbox row); a task posts it, and a periodic
    sweeper re-enqueues rows that are due and still pending."""

    __test__ = False  # not a pytest test class, whatever its name
    __tablename__ = "test_provider_events"
    __table_args__ = (sa.Index("ix_test_provider_events_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The event's own id (`evt_test_…`), which the intake stores once: a repeat post is a no-op.
    event_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: The Stripe-shaped event, posted as it is.
    payload: Mapped[dict] = mapped_column(Json)
    status: Mapped[EventDeliveryStatus] = mapped_column(
        str_enum(EventDeliveryStatus, "event_delivery_status"), default=EventDeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PayoutAccount(Model):
    """Where a store's payouts go: one bank account per store. The account number is kept only
    encrypted (AES-256-GCM under ENCRYPTION_KEY) and shown as its last four digits."""

    __tablename__ = "payout_accounts"

    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    holder_name: Mapped[str] = mapped_column(sa.String(200))
    routing_number: Mapped[str] = mapped_column(sa.String(9))
    account_number_encrypted: Mapped[str] = mapped_column(sa.Text)
    last4: Mapped[str] = mapped_column(sa.String(4))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PayoutStatus(str, enum.Enum):
    REQUESTED = "requested"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"


#: The statuses a payout's task still has work in: the sweeper re-enqueues them once due.
OPEN_PAYOUT_STATUSES = (PayoutStatus.REQUESTED, PayoutStatus.PROCESSING)


class Payout(Model):
    """Money out of a store's balance to its bank account: durable work (SPEC §8). The `payout`
    ledger row is written with it; a task claims it when `due_at` has come (a lease while it
    asks the provider), and it ends `paid`, or `failed` with a `payout_reversal` row."""

    __tablename__ = "payouts"
    __table_args__ = (
        sa.Index("ix_payouts_status_due_at", "status", "due_at"),
        sa.Index("ix_payouts_store_id_id", "store_id", sa.text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[PayoutStatus] = mapped_column(str_enum(PayoutStatus, "payout_status"), default=PayoutStatus.REQUESTED)
    provider: Mapped[str] = mapped_column(sa.String(20))
    #: Stripe's id: its payout events are matched by it.
    provider_payout_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: When the task may (re)claim it: now when requested, the end of the lease while processing.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

