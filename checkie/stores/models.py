from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkie.accounts.models import User
from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model


class Role(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return {"viewer": 1, "admin": 2, "owner": 3}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class MemberStatus(str, enum.Enum):
    INVITED = "invited"
    ACTIVE = "active"


class Store(Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: Public, appears in checkout URLs (/c/<slug>/…); unique across the platform.
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    #: ISO-4217 default currency for new pages.
    currency: Mapped[str] = mapped_column(sa.String(3))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: "Email me about each new sale": the owner gets a "new sale" email with every payment.
    notify_new_sale: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    #: The customer portal's brand colour (`#rrggbb`), or the default look.
    brand_color: Mapped[str | None] = mapped_column(sa.String(7))
    #: What customers may do to their subscriptions in the portal (SPEC §6.4): cancel (at the
    #: period's end) and take that back; pause and resume.
    portal_allow_cancel: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    portal_allow_pause: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    #: `test` or `stripe`; None follows the platform's `PAYMENT_PROVIDER` (checkie.providers.for_store).
    payment_provider: Mapped[str | None] = mapped_column(sa.String(20))
    #: The store's own Stripe keys (stores/payment_settings.py); without them a Stripe store uses the
    #: platform's `STRIPE_*` keys. The secrets are AES-GCM encrypted with ENCRYPTION_KEY, and only
    #: a hint of the secret key (`sk_test_…4242`) is ever shown again.
    stripe_publishable_key: Mapped[str | None] = mapped_column(sa.String(255))
    stripe_secret_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    stripe_secret_key_hint: Mapped[str | None] = mapped_column(sa.String(40))
    stripe_webhook_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()


class StoreMember(Model):
    """Who may act on a store and how. An invitation is a member row in status `invited`
    (user_id empty) until the invitee accepts the emailed link while signed in."""

    __tablename__ = "store_members"
    __table_args__ = (sa.UniqueConstraint("store_id", "email", name="uq_store_members_store_email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[Role] = mapped_column(str_enum(Role, "member_role"))
    status: Mapped[MemberStatus] = mapped_column(str_enum(MemberStatus, "member_status"))
    #: SHA-256 hex of the invitation link's token; cleared once accepted.
    invite_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    store: Mapped[Store] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class ApiKeyMode(str, enum.Enum):
    TEST = "test"
    LIVE = "live"


class ApiKey(Model):
    """A store-scoped secret `ck_test_…`/`ck_live_…`: shown once, stored as a SHA-256 hash."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    mode: Mapped[ApiKeyMode] = mapped_column(str_enum(ApiKeyMode, "api_key_mode"))
    #: The first characters of the key (e.g. `ck_test_3f9a`), enough to recognise it in a list.
    prefix: Mapped[str] = mapped_column(sa.String(20))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    store: Mapped[Store] = relationship()
