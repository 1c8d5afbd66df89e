"""Stores: create, rename, re-slug, change currency, delete, and the overview numbers.

Members and invitations live in `checkie.stores.members`, API keys in `checkie.stores.api_keys`.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import partial

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.accounts.models import User
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.money import CURRENCIES
from checkie.stores.models import MemberStatus, Role, Store, StoreMember

SLUG_MAX_LENGTH = 60
NAME_MAX_LENGTH = 100
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Slugs that would shadow fixed URLs under /c/ (e.g. /c/s/<session>) or read as platform pages.
RESERVED_SLUGS = frozenset({"s", "api", "admin", "dashboard", "embed", "portal", "static", "new", "checkie"})
#: How many times a concurrent insert may steal a generated slug before we give up (then 422).
_SLUG_ATTEMPTS = 5


def slugify(text: str) -> str:
    """'Café Déjà Vu!' → 'cafe-deja-vu': lowercase ASCII words joined by hyphens, ≤ 60 chars.
    Falls back to 'store' when nothing ASCII is left (e.g. a name in another script)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX_LENGTH].rstrip("-") or "store"


def _slug_taken(db: Session, slug: str, *, except_store_id: int | None = None) -> bool:
    stmt = sa.select(Store.id).where(Store.slug == slug)
    if except_store_id is not None:
        stmt = stmt.where(Store.id != except_store_id)
    return db.scalar(stmt) is not None


def unique_slug(db: Session, name: str) -> str:
    """A free slug derived from `name`, appending -2, -3 … (trimmed so it stays ≤ 60 chars)."""
    base = slugify(name)
    candidate, n = base, 1
    while candidate in RESERVED_SLUGS or _slug_taken(db, candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-") + suffix
    return candidate


def check_slug(db: Session, slug: str, *, except_store_id: int | None = None) -> str:
    """An explicitly chosen slug must be well-formed and free; ValidationFailed on `slug` otherwise."""
    slug = slug.strip().lower()
    if not slug or len(slug) > SLUG_MAX_LENGTH or not _SLUG.match(slug):
        raise ValidationFailed.on(
            "slug", f"Use 1–{SLUG_MAX_LENGTH} lowercase letters, digits and single hyphens (e.g. my-shop)."
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed.on("slug", "This address is reserved; choose another.")
    if _slug_taken(db, slug, except_store_id=except_store_id):
        raise ValidationFailed.on("slug", "This address is already taken.")
    return slug


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


def _saved_without_slug_clash(db: Session, apply: Callable[[], None]) -> bool:
    """Run `apply` (which adds or changes a store) and flush it inside a savepoint; False when
    another transaction took the slug first. The unique constraint is the real guard: the read
    in `unique_slug`/`check_slug` can race. Changes must happen inside the savepoint, because
    `begin_nested()` flushes whatever is already pending before it starts."""
    try:
        with db.begin_nested():
            apply()
    except IntegrityError as exc:
        if "uq_stores_slug" not in str(exc.orig):
            raise
        return False
    return True


def create_store(db: Session, *, owner: User, name: str, currency: str, slug: str | None = None) -> Store:
    """Open a store owned by `owner`, who becomes its active `owner` member.

    Without `slug` one is derived from the name (unique, -2/-3 … appended); an explicit slug must
    be valid and free. Raises ValidationFailed on `name`, `slug` or `currency`."""
    name, currency = check_name(name), check_currency(currency)
    explicit = slug is not None and slug.strip() != ""
    for _ in range(_SLUG_ATTEMPTS):
        chosen = check_slug(db, slug) if slug is not None and explicit else unique_slug(db, name)
        store = Store(name=name, slug=chosen, currency=currency, owner_id=owner.id)
        if _saved_without_slug_clash(db, partial(db.add, store)):
            break
    else:
        raise ValidationFailed.on("slug", "This address is already taken.")
    db.add(StoreMember(
        store_id=store.id, user_id=owner.id, email=owner.email, role=Role.OWNER,
        status=MemberStatus.ACTIVE, joined_at=utcnow(),
    ))
    db.flush()
    return store


def update_store(
    db: Session, store: Store, *, name: str | None = None, slug: str | None = None, currency: str | None = None
) -> Store:
    """Change any of name, slug, currency (None leaves a value alone) with the rules of
    `create_store`. A new slug changes the store's public checkout URLs."""
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = check_name(name)
    if slug is not None and slug.strip().lower() != store.slug:
        changes["slug"] = check_slug(db, slug, except_store_id=store.id)
    if currency is not None:
        changes["currency"] = check_currency(currency)

    def apply() -> None:
        for attribute, value in changes.items():
            setattr(store, attribute, value)

    if not _saved_without_slug_clash(db, apply):
        raise ValidationFailed.on("slug", "This address is already taken.")
    return store
