"""Webhook endpoints, the events recorded for them, one delivery per (event, endpoint) and the
log of its attempts (SPEC §7, §8). Events and deliveries are outbox rows: written in the
transaction of the change they report, sent by a task, re-enqueued by a sweeper."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model
from checkie.security import decrypt_secret

#: After a rotation the old secret keeps signing (a second signature) this long.
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)

#: JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookEndpoint(Model):
    """A merchant's URL and the event types it wants. The secret signs every delivery; after a
    rotation the previous one signs too (a second signature) until `previous_secret_expires_at`."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    #: The subscribed event types (a JSON list of strings, e.g. ["payment.completed"]).
    events: Mapped[list] = mapped_column(Json)
    #: `whsec_…`, AES-GCM encrypted with ENCRYPTION_KEY (security.encrypt_secret).
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Failed attempts since the last success, and when that run of failures began: an endpoint
    #: failing for 24 hours (at least 10 in a row) is disabled.
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def signing_secrets(self, encryption_key: str, *, now: datetime) -> list[str]:
        """The secrets that sign a delivery now: the current one first, then the previous one
        while it is still valid after a rotation."""
        found = [decrypt_secret(self.secret_encrypted, encryption_key)]
        expires = self.previous_secret_expires_at
        if self.previous_secret_encrypted and expires is not None and expires > now:
            found.append(decrypt_secret(self.previous_secret_encrypted, encryption_key))
        return found

    def disable(self, *, reason: str | None) -> None:
        """Stop sending to it; `reason` tells the merchant why (None when they did it themselves)."""
        self.enabled = False
        self.disabled_reason = reason[:200] if reason else None
        self.disabled_at = utcnow()


class WebhookEvent(Model):
    """Something that happened in a store, with `data` as the JSON API shows the object then."""

    __tablename__ = "webhook_events"

    #: `evt_` + 24 random URL-safe characters: unguessable, and the `webhook-id` of every attempt.
    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(sa.String(50))
    data: Mapped[dict] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Model):
    """One event for one endpoint: pending until an attempt gets a 2xx (succeeded) or the
    retries run out (failed). A task claims it by setting `claimed_until` (a lease) in a short
    transaction, so a delivery in flight is not sent twice and a dead worker's claim expires."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", sa.text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: When it is due (again); meaningful while pending.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(Model):
    """One POST of a delivery, as the merchant sees it in the log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: None when no answer came (timeout, refused address, connection error).
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    duration_ms: Mapped[int] = mapped_column(sa.Integer)
    #: The start of the answer's body, at most 1 KB.
    response_excerpt: Mapped[str] = mapped_column(sa.String(1024), default="")
    error: Mapped[str | None] = mapped_column(sa.Text)
