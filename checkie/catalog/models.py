from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model, db
from checkie.stores.models import Store

#: JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class PageStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PricingType(str, enum.Enum):
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


class Interval(str, enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class FieldType(str, enum.Enum):
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    SELECT = "select"
    CHECKBOX = "checkbox"
    DATE = "date"


class CouponDuration(str, enum.Enum):
    ONCE = "once"
    FOREVER = "forever"
    REPEATING = "repeating"


class EmbedType(str, enum.Enum):
    INLINE = "inline"
    BUTTON = "button"
    LINK = "link"


class Page(Model):
    """A checkout page: what the shopper buys and at what price (minor units of `currency`)."""

    __tablename__ = "pages"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "slug", name="uq_pages_store_slug"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("interval_count >= 1", name="interval_count_positive"),
        sa.CheckConstraint("trial_days >= 0", name="trial_days_not_negative"),
        sa.Index("ix_pages_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"))
    #: Public, unique within the store: /c/<store slug>/<page slug>.
    slug: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[PageStatus] = mapped_column(str_enum(PageStatus, "page_status"), default=PageStatus.DRAFT)
    pricing_type: Mapped[PricingType] = mapped_column(str_enum(PricingType, "pricing_type"), default=PricingType.ONE_TIME)
    #: Base price in minor units, before variant option deltas and coupons.
    amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: Subscription billing period (`interval_count` × `interval`); NULL for one-time pages.
    interval: Mapped[Interval | None] = mapped_column(str_enum(Interval, "billing_interval"))
    interval_count: Mapped[int] = mapped_column(sa.Integer, default=1)
    trial_days: Mapped[int] = mapped_column(sa.Integer, default=0)
    success_url: Mapped[str | None] = mapped_column(sa.String(2048))
    allow_coupons: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Incremented by the database on every change to what shoppers see of the page (below:
    #: `_bump_page_versions`); catalog.snapshot caches its read-only views under it. Read it with
    #: a query, not from a loaded Page: the increment happens behind the ORM's back.
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    store: Mapped[Store] = relationship()
    variants: Mapped[list[Variant]] = relationship(
        back_populates="page", order_by="Variant.position", cascade="all, delete-orphan"
    )
    custom_fields: Mapped[list[CustomField]] = relationship(
        back_populates="page", order_by="CustomField.position", cascade="all, delete-orphan"
    )
    stats: Mapped[PageStats] = relationship(back_populates="page", cascade="all, delete-orphan")


class Variant(Model):
    """A choice the shopper makes (e.g. "Size"), with ordered options."""

    __tablename__ = "variants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    page: Mapped[Page] = relationship(back_populates="variants")
    options: Mapped[list[VariantOption]] = relationship(
        back_populates="variant", order_by="VariantOption.position", cascade="all, delete-orphan"
    )


class VariantOption(Model):
    __tablename__ = "variant_options"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: Added to the page amount when chosen (minor units, may be negative; the total never goes below 0).
    price_delta: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    variant: Mapped[Variant] = relationship(back_populates="options")


class CustomField(Model):
    """A question on the checkout form; answers are stored on the checkout session by `key`."""

    __tablename__ = "custom_fields"
    __table_args__ = (sa.UniqueConstraint("page_id", "key", name="uq_custom_fields_page_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    #: Stable machine name (lower_snake_case); frozen once the page has checkout sessions.
    key: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[FieldType] = mapped_column(str_enum(FieldType, "field_type"))
    required: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Choices of a `select` field (list of strings); NULL for other types.
    options: Mapped[list[str] | None] = mapped_column(Json)
    help_text: Mapped[str | None] = mapped_column(sa.String(300))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    page: Mapped[Page] = relationship(back_populates="custom_fields")


coupon_pages = sa.Table(
    "coupon_pages",
    db.metadata,
    sa.Column("coupon_id", sa.ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("page_id", sa.ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Coupon(Model):
    __tablename__ = "coupons"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "code_key", name="uq_coupons_store_code_key"),
        sa.CheckConstraint(
            "(percent_off IS NULL) <> (amount_off IS NULL)", name="one_discount_kind"
        ),
        sa.CheckConstraint("percent_off IS NULL OR (percent_off BETWEEN 1 AND 100)", name="percent_off_range"),
        sa.CheckConstraint("amount_off IS NULL OR (amount_off > 0 AND currency IS NOT NULL)", name="amount_off_valid"),
        sa.CheckConstraint("redemption_count >= 0", name="redemption_count_not_negative"),
        # The last line of defence for max_redemptions: the reserving UPDATE is conditional too.
        sa.CheckConstraint(
            "max_redemptions IS NULL OR redemption_count <= max_redemptions", name="redemptions_within_max"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: As the merchant typed it; shoppers' input is matched on `code_key`.
    code: Mapped[str] = mapped_column(sa.String(50))
    #: Upper-cased code: uniqueness per store regardless of case.
    code_key: Mapped[str] = mapped_column(sa.String(50))
    percent_off: Mapped[int | None] = mapped_column(sa.Integer)
    amount_off: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    max_redemptions: Mapped[int | None] = mapped_column(sa.Integer)
    #: Redemptions reserved by in-flight payments plus completed ones (released when a payment fails).
    redemption_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: Smallest subtotal (minor units of the page currency) the coupon applies to.
    minimum_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    duration: Mapped[CouponDuration] = mapped_column(str_enum(CouponDuration, "coupon_duration"), default=CouponDuration.ONCE)
    duration_months: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    #: Empty means every page of the store.
    pages: Mapped[list[Page]] = relationship(secondary=coupon_pages)


class CouponHold(Model):
    """One redemption of a coupon held by a checkout session's payment, written (with the
    counter's increment) in a short transaction of its own, committed before the PSP is called:
    the coupon's row lock is never held across that call. The row outlives a request that dies
    after committing it, so the redemption is still given back when the session ends unpaid
    (`checkout.services.release_coupon`), and a later attempt of the same session reuses it.

    No foreign keys: the paying request holds the session's row lock (`SELECT … FOR UPDATE`)
    while the hold is written on another connection, and a foreign key check would wait for that
    lock — forever. A hold of a deleted coupon gives back nothing when released."""

    __tablename__ = "coupon_holds"

    checkout_session_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    coupon_id: Mapped[int] = mapped_column(BigId, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Embed(Model):
    """A way to put a page on the merchant's own site: an iframe, a button with an overlay, or a link."""

    __tablename__ = "embeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Opaque public id used in /embed/<public_id> and the snippet (`emb_…`).
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    type: Mapped[EmbedType] = mapped_column(str_enum(EmbedType, "embed_type"))
    #: Presentation settings, e.g. {"button_text": "Buy now", "theme": "light"} (`embeds.SETTING_NAMES`).
    settings: Mapped[dict] = mapped_column(Json, default=dict)
    #: Origins allowed to frame the checkout (e.g. "https://shop.example"); empty means any.
    allowed_origins: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    page: Mapped[Page] = relationship()


class PageStats(Model):
    """Counters per page. Only ever changed by single `UPDATE … SET n = n + k` statements."""

    __tablename__ = "page_stats"
    __table_args__ = tuple(
        sa.CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative")
        for name in ("views", "sessions", "conversions", "revenue")
    )

    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True)
    views: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sessions: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    conversions: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Revenue in minor units of the page currency.
    revenue: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    page: Mapped[Page] = relationship(back_populates="stats")


# ---------------------------------------------------------------- page versions


@sa.event.listens_for(Session, "before_flush")
def _bump_page_versions(session: Session, _context, _instances) -> None:
    """Increment `pages.version` for every page whose shopper-facing data this flush changes:
    the page row, its variants, options and custom fields, or its store's name or slug. One
    UPDATE in the same transaction, so a view cached under the old version is never served
    once the change is committed. Coupons, embeds and stats are not part of a page's view."""
    page_ids: set[int] = set()
    store_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Store):
            if obj not in session.new and _changed(obj, "name", "slug"):
                store_ids.add(obj.id)
            continue
        if not isinstance(obj, _PAGE_PARTS):
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        page_id = _page_id_of(obj)
        if page_id is not None:
            page_ids.add(page_id)
    if not page_ids and not store_ids:
        return
    connection = session.connection()
    pages = Page.__table__
    condition = sa.or_(
        pages.c.id.in_(sorted(page_ids)) if page_ids else sa.false(),
        pages.c.store_id.in_(sorted(store_ids)) if store_ids else sa.false(),
    )
    connection.execute(sa.update(pages).where(condition).values(version=pages.c.version + 1))


_PAGE_PARTS = (Page, Variant, VariantOption, CustomField)


def _page_id_of(obj) -> int | None:
    """The id of the saved page `obj` belongs to (None for a new page and for other classes)."""
    if isinstance(obj, Page):
        return obj.id
    if isinstance(obj, (Variant, CustomField)):
        return obj.page_id if obj.page_id is not None else _saved_id(obj.page)
    if isinstance(obj, VariantOption):
        variant = obj.variant
        if variant is None:
            return None
        return variant.page_id if variant.page_id is not None else _saved_id(variant.page)
    return None


def _saved_id(obj) -> int | None:
    return obj.id if obj is not None else None


def _changed(obj, *names: str) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)
