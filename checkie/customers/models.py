"""Customers of a store, and their ways into the customer portal: magic links and portal sessions."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model


class Customer(Model):
    __tablename__ = "customers"
    __table_args__ = (sa.UniqueConstraint("store_id", "email", name="uq_customers_store_email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: Lower-cased; one customer per address per store.
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    #: The PSP's customer id (e.g. Stripe `cus_…`), when the provider keeps customers.
    provider_customer_id: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalLinkKind(str, enum.Enum):
    #: Asked for by the customer on the portal's sign-in page.
    REQUESTED = "requested"
    #: Made by the merchant ("Send portal link", `POST …/customers/<id>/portal-link`).
    MERCHANT = "merchant"


class PortalLink(Model):
    """A magic link into the customer portal (SPEC §6.4): a random token (≥ 128 bits) stored
    hashed, single use, valid 30 minutes, replaced by the customer's next link."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token in the link.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[PortalLinkKind] = mapped_column(str_enum(PortalLinkKind, "portal_link_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PortalSession(Model):
    """A signed-in customer: one customer of one store, for 24 hours. The browser's cookie or the
    JSON client's bearer token carries the random token; the row keeps its SHA-256."""

    __tablename__ = "portal_sessions"

    #: SHA-256 of the session's token.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    #: The link it was opened with (the portal activity the merchant sees).
    link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_links.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
