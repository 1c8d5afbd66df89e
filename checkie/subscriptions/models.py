"""Subscriptions, their renewal rows (the durable schedule), their timeline, and each store's test clock."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkie.catalog.models import CouponDuration, Interval, Json
from checkie.customers.models import Customer
from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model


class SubscriptionStatus(str, enum.Enum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELED = "canceled"
    #: Kept from SPEC §3 for a provider whose first charge is still open (Stripe's 3DS on a
    #: subscription); Checkie's own checkout only starts a subscription once it is paid or trialing.
    INCOMPLETE = "incomplete"


class CancellationReason(str, enum.Enum):
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    REQUESTED_BY_MERCHANT = "requested_by_merchant"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    OTHER = "other"
    #: Set by dunning only, after the last retry of a renewal failed.
    PAYMENT_FAILED = "payment_failed"


#: What a merchant or customer may give as the reason to cancel (payment_failed is Checkie's own).
CHOOSABLE_REASONS = tuple(reason for reason in CancellationReason if reason is not CancellationReason.PAYMENT_FAILED)


class Subscription(Model):
    """A customer's recurring purchase of a page: `amount` minor units of `currency` every
    `interval_count` × `interval`, less a coupon's discount while its duration lasts.

    Times are the store's clock (checkie.subscriptions.clock), which in test mode may run ahead."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0 AND discount >= 0", name="amounts_not_negative"),
        sa.CheckConstraint("interval_count >= 1", name="interval_count_positive"),
        sa.Index("ix_subscriptions_store_id_id", "store_id", "id"),
        sa.Index("ix_subscriptions_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pages.id", ondelete="SET NULL"), index=True)
    #: The checkout that started it: one subscription per session at most.
    checkout_session_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("checkout_sessions.id", ondelete="SET NULL"), unique=True
    )
    status: Mapped[SubscriptionStatus] = mapped_column(str_enum(SubscriptionStatus, "subscription_status"))
    #: The page price with the chosen options, per period, before any discount (minor units).
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    interval: Mapped[Interval] = mapped_column(str_enum(Interval, "subscription_interval"))
    interval_count: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: The coupon's discount per discounted charge (minor units), frozen at checkout, and how long
    #: it lasts: `once` (the first payment), `forever`, or `repeating` until `discount_until`.
    discount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    discount_duration: Mapped[CouponDuration | None] = mapped_column(str_enum(CouponDuration, "subscription_discount_duration"))
    discount_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coupon_code: Mapped[str | None] = mapped_column(sa.String(64))
    #: What renewals charge through: the provider, its customer and the saved payment method.
    provider: Mapped[str] = mapped_column(sa.String(20))
    provider_subscription_id: Mapped[str | None] = mapped_column(sa.String(100))
    payment_method: Mapped[str] = mapped_column(sa.String(100))
    #: The PSP customer `payment_method` is saved to, when the checkout saved it to one of its own
    #: (a Stripe.js card token); None: the customer's (customers.provider_customer_id).
    provider_customer_id: Mapped[str | None] = mapped_column(sa.String(100))
    trial_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    current_period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Where its periods are counted from (the first charge: the start or the trial's end; a
    #: resume's new period end), so a month keeps its day: Jan 31, Feb 28, Mar 31.
    billing_anchor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_at_period_end: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Given with a cancellation at period end and kept until it happens.
    cancellation_reason: Mapped[CancellationReason | None] = mapped_column(str_enum(CancellationReason, "cancellation_reason"))
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The store's clock when it started (the listing's and churn's "created").
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()


class RenewalStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    #: Every retry failed: the subscription was canceled.
    FAILED = "failed"
    #: No longer owed: the subscription was canceled or paused first.
    CANCELED = "canceled"


OPEN_RENEWAL_STATUSES = (RenewalStatus.SCHEDULED, RenewalStatus.PROCESSING)


class SubscriptionRenewal(Model):
    """The charge for one period of a subscription: durable scheduled work. Unique per
    (subscription, period start), so a period is charged once however often its task runs.

    `due_at` is when a task may next claim it (the period start, a dunning retry, or the end
    of a claim's lease), on the store's clock."""

    __tablename__ = "subscription_renewals"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "period_start", name="uq_subscription_renewals_period"),
        sa.Index("ix_subscription_renewals_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RenewalStatus] = mapped_column(str_enum(RenewalStatus, "renewal_status"), default=RenewalStatus.SCHEDULED)
    #: Declines recorded so far; the provider's idempotency key includes it, so a charge that a
    #: dead worker left unanswered is asked again under the same key (and not charged twice).
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SubscriptionEvent(Model):
    """The subscription's timeline, append-only: what happened, when (store clock), and details."""

    __tablename__ = "subscription_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict] = mapped_column(Json, default=dict)


class TestClock(Model):
    """How far a test-mode store's clock runs ahead of the wall clock (SPEC §5: the test clock)."""

    __tablename__ = "test_clocks"
    __test__ = False

    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
