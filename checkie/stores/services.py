"""Stores: create, rename, re-slug, change currency, delete, and the overview numbers.

Members and invitations live in `checkie.stores.members`, API keys in `checkie.stores.api_keys`.
"""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from checkie import slugs
from checkie.accounts.models import User
from checkie.colors import BRAND_COLOR
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.money import CURRENCIES
from checkie.stores.models import MemberStatus, Role, Store, StoreMember

SLUG_MAX_LENGTH = 60
NAME_MAX_LENGTH = 100
#: Store slugs are unique on the whole platform: `/c/<store>/<page>`.
STORE_SLUGS = slugs.SlugKind(
    column=Store.slug, id_column=Store.id, constraint="uq_stores_slug", max_length=SLUG_MAX_LENGTH,
    fallback="store", example="my-shop", taken_message="This address is already taken.",
    # Slugs that would shadow fixed URLs (/c/s/<session>, /portal/verify/<token>) or read as platform pages.
    reserved=frozenset({"s", "api", "admin", "dashboard", "embed", "portal", "static", "new", "checkie", "verify"}),
)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_label(value: str | None, *, field: str, max_length: int) -> str:
    """A one-line human label (store or key name): stripped, not empty, no control characters
    (PostgreSQL refuses NUL outright, and line breaks would corrupt lists and email subjects)."""
    value = (value or "").strip()
    if not value:
        raise ValidationFailed.on(field, "Enter a name.")
    if len(value) > max_length:
        raise ValidationFailed.on(field, f"Use at most {max_length} characters.")
    if _CONTROL.search(value):
        raise ValidationFailed.on(field, "Use letters, digits, spaces and punctuation only.")
    return value


def check_name(name: str) -> str:
    return clean_label(name, field="name", max_length=NAME_MAX_LENGTH)


def check_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if code not in CURRENCIES:
        raise ValidationFailed.on("currency", "Choose a supported ISO-4217 currency, e.g. USD.")
    return code


def create_store(db: Session, *, owner: User, name: str, currency: str, slug: str | None = None) -> Store:
    """Open a store owned by `owner`, who becomes its active `owner` member.

    Without `slug` one is derived from the name (unique, -2/-3 … appended); an explicit slug must
    be valid and free. Raises ValidationFailed on `name`, `slug` or `currency`."""
    name, currency = check_name(name), check_currency(currency)
    explicit = slugs.check_slug(db, STORE_SLUGS, slug) if slug is not None and slug.strip() else None
    store = slugs.insert_with_slug(
        db, STORE_SLUGS, lambda chosen: Store(name=name, slug=chosen, currency=currency, owner_id=owner.id),
        explicit=explicit, text=name,
    )
    db.add(StoreMember(
        store_id=store.id, user_id=owner.id, email=owner.email, role=Role.OWNER,
        status=MemberStatus.ACTIVE, joined_at=utcnow(),
    ))
    db.flush()
    return store


def check_brand_color(color: str) -> str | None:
    """`#rrggbb` (lower-cased), or None for "" (the portal's default look). The colour ends up in
    a style the portal renders, so nothing but the six hex digits gets through."""
    color = (color or "").strip().lower()
    if not color:
        return None
    if not BRAND_COLOR.fullmatch(color):
        raise ValidationFailed.on("brand_color", "Enter a colour as #rrggbb, e.g. #4f46e5, or leave it empty.")
    return color


def update_store(
    db: Session, store: Store, *, name: str | None = None, slug: str | None = None, currency: str | None = None,
    notify_new_sale: bool | None = None, portal_allow_cancel: bool | None = None, portal_allow_pause: bool | None = None,
    brand_color: str | None = None,
) -> Store:
    """Change any of name, slug, currency, the owner's new-sale email, what customers may do in
    the portal and its brand colour ("" clears it) — None leaves a value alone — with the rules
    of `create_store`. A new slug changes the store's public checkout and portal URLs."""
    changes: dict[str, str | bool | None] = {}
    if name is not None:
        changes["name"] = check_name(name)
    if slug is not None and slug.strip().lower() != store.slug:
        changes["slug"] = slugs.check_slug(db, STORE_SLUGS, slug, except_id=store.id)
    if currency is not None:
        changes["currency"] = check_currency(currency)
    if notify_new_sale is not None:
        changes["notify_new_sale"] = bool(notify_new_sale)
    if portal_allow_cancel is not None:
        changes["portal_allow_cancel"] = bool(portal_allow_cancel)
    if portal_allow_pause is not None:
        changes["portal_allow_pause"] = bool(portal_allow_pause)
    if brand_color is not None:
        changes["brand_color"] = check_brand_color(brand_color)

    def apply() -> None:
        for attribute, value in changes.items():
            setattr(store, attribute, value)

    slugs.change_with_slug(db, STORE_SLUGS, apply)
    return store
