from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkie.catalog.models import Json, Page
from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model


class CheckoutState(str, enum.Enum):
    OPEN = "open"
    PROCESSING = "processing"
    AWAITING_ACTION = "awaiting_action"
    COMPLETED = "completed"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


class CheckoutSession(Model):
    """One shopper's attempt to buy a page. `state` changes only through checkout.states'
    table, applied by one service that appends a CheckoutSessionTransition per change."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (
        sa.CheckConstraint("subtotal >= 0 AND discount >= 0 AND total >= 0", name="amounts_not_negative"),
        sa.CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        sa.Index("ix_checkout_sessions_store_created", "store_id", "created_at"),
        sa.Index("ix_checkout_sessions_state_expires", "state", "expires_at"),
    )

    #: Public and unguessable: `cs_` + 32 random URL-safe characters.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    state: Mapped[CheckoutState] = mapped_column(str_enum(CheckoutState, "checkout_state"), default=CheckoutState.OPEN)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    #: {"<variant id>": <option id>} as chosen by the shopper.
    variant_options: Mapped[dict] = mapped_column(Json, default=dict)
    #: {"<field key>": <cleaned answer>} (catalog.answers.validate_answers).
    custom_fields: Mapped[dict] = mapped_column(Json, default=dict)
    coupon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coupons.id", ondelete="SET NULL"))
    #: True while this session holds one of the coupon's redemptions (reserved at INITIATE_PAYMENT).
    coupon_reserved: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Minor units of `currency`: subtotal (price + options) − discount = total.
    subtotal: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    discount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: A subscription page's free trial, as priced for this session: nothing is charged now (the
    #: card is only saved) and `total` is the first charge, at the trial's end.
    trial_days: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    attempt_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"))
    #: Where the shopper came from: {"ip", "userAgent", "embedId"?}.
    client_info: Mapped[dict] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    page: Mapped[Page] = relationship()

    @property
    def due_now(self) -> int:
        """What the PSP is asked for at checkout (minor units): the total, or 0 during a trial."""
        return 0 if self.trial_days > 0 else self.total

    transitions: Mapped[list[CheckoutSessionTransition]] = relationship(
        back_populates="checkout", order_by="CheckoutSessionTransition.id", cascade="all, delete-orphan"
    )


class CheckoutSessionTransition(Model):
    """Append-only history: one row per state change (and per refused-but-recorded event, never)."""

    __tablename__ = "checkout_session_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.ForeignKey("checkout_sessions.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[CheckoutState] = mapped_column(str_enum(CheckoutState, "from_state"))
    event: Mapped[str] = mapped_column(sa.String(40))
    to_state: Mapped[CheckoutState] = mapped_column(str_enum(CheckoutState, "to_state"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict] = mapped_column(Json, default=dict)

    checkout: Mapped[CheckoutSession] = relationship(back_populates="transitions")


class IdempotencyKey(Model):
    """`Idempotency-Key` handling (SPEC §6.6): the first request's response is replayed for the
    same key and body for 24 hours; a different body is a 422; one still running is a 409."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Whose key space this is, e.g. `store:12` or `widget:cs_…`, so tenants never collide.
    scope: Mapped[str] = mapped_column(sa.String(100))
    key: Mapped[str] = mapped_column(sa.String(255))
    #: SHA-256 of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    #: NULL while the first request is in flight.
    response_status: Mapped[int | None] = mapped_column(sa.Integer)
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
