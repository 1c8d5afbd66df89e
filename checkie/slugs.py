"""Slugs: the lowercase ASCII names in public URLs (`/c/<store>/<page>`), for stores (unique on
the platform) and pages (unique in their store).

Each kind of record describes its slugs once with a `SlugKind` (its column, its unique
constraint, its length and messages) and passes its scope (e.g. `Page.store_id == store.id`)
to these functions. Nothing here imports a domain package.

A free slug is found by reading, which races with a concurrent insert of the same one: the
unique constraint is the real guard, and `insert_with_slug` retries a derived slug that lost.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.errors import ValidationFailed

_FORMAT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: How many times a concurrent insert may steal a derived slug before we give up (then 422).
ATTEMPTS = 5

T = TypeVar("T")
Scope = Iterable[sa.ColumnElement[bool]]


@dataclass(frozen=True)
class SlugKind:
    """How one kind of record's slugs look, where they live and what a refusal says."""

    #: The slug column and the table's id column (to leave the record itself out of "taken").
    column: Any
    id_column: Any
    #: The unique constraint that guards the slug (its name tells its violation from others).
    constraint: str
    max_length: int
    #: The slug of a text with nothing ASCII left in it (a name in another script).
    fallback: str
    #: An example in the format message ("e.g. my-shop").
    example: str
    #: What is said when another record holds the slug.
    taken_message: str
    #: Slugs never generated nor accepted (they would shadow fixed URLs).
    reserved: frozenset[str] = frozenset()


#: Apostrophes join the parts of a word ("Alice's" → "alices"), they do not split it.
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")


def slugify(text: str, kind: SlugKind) -> str:
    """'Café Déjà Vu!' → 'cafe-deja-vu', "Alice's Bakery" → 'alices-bakery': lowercase ASCII
    words joined by hyphens, at most `kind.max_length` characters; `kind.fallback` when nothing
    ASCII is left."""
    ascii_text = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[: kind.max_length].rstrip("-") or kind.fallback


def is_taken(db: Session, kind: SlugKind, slug: str, *, scope: Scope = (), except_id: int | None = None) -> bool:
    """Whether a record in `scope` other than `except_id` holds `slug`."""
    stmt = sa.select(kind.id_column).where(kind.column == slug, *scope)
    if except_id is not None:
        stmt = stmt.where(kind.id_column != except_id)
    return db.scalar(stmt) is not None


def unique_slug(db: Session, kind: SlugKind, text: str, *, scope: Scope = ()) -> str:
    """A free slug derived from `text`, with -2, -3 … appended (trimmed to stay within the length)."""
    base = slugify(text, kind)
    candidate, n = base, 1
    while candidate in kind.reserved or is_taken(db, kind, candidate, scope=scope):
        n += 1
        suffix = f"-{n}"
        candidate = base[: kind.max_length - len(suffix)].rstrip("-") + suffix
    return candidate


def check_slug(db: Session, kind: SlugKind, slug: str | None, *, scope: Scope = (), except_id: int | None = None) -> str:
    """An explicitly chosen slug, normalised, when it is well-formed, not reserved and free;
    ValidationFailed on `slug` otherwise."""
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > kind.max_length or not _FORMAT.match(slug):
        raise ValidationFailed.on(
            "slug", f"Use 1–{kind.max_length} lowercase letters, digits and single hyphens (e.g. {kind.example})."
        )
    if slug in kind.reserved:
        raise ValidationFailed.on("slug", "This address is reserved; choose another.")
    if is_taken(db, kind, slug, scope=scope, except_id=except_id):
        raise ValidationFailed.on("slug", kind.taken_message)
    return slug


def saved_without_clash(db: Session, kind: SlugKind, apply: Callable[[], object]) -> bool:
    """Run `apply` (which adds or changes a record) and flush it inside a savepoint; False when
    another transaction took the slug first. Changes must happen inside the savepoint, because
    `begin_nested()` flushes whatever is already pending before it starts."""
    try:
        with db.begin_nested():
            apply()
    except IntegrityError as exc:
        if kind.constraint not in str(exc.orig):
            raise
        return False
    return True


def change_with_slug(db: Session, kind: SlugKind, apply: Callable[[], object]) -> None:
    """Apply changes to a record (its slug among them, already checked) and flush them;
    ValidationFailed on `slug` when a concurrent writer took that slug first."""
    if not saved_without_clash(db, kind, apply):
        raise ValidationFailed.on("slug", kind.taken_message)


def insert_with_slug(db: Session, kind: SlugKind, make: Callable[[str], T], *, explicit: str | None, text: str,
                     scope: Scope = ()) -> T:
    """Insert the record `make(slug)` builds, under `explicit` (already checked) or a slug derived
    from `text`, deriving again when a concurrent insert takes it first. ValidationFailed on
    `slug` when an explicit slug is lost, or every attempt is."""
    for _ in range(ATTEMPTS):
        record = make(explicit or unique_slug(db, kind, text, scope=scope))
        if saved_without_clash(db, kind, partial(db.add, record)):
            return record
        if explicit:
            break
    raise ValidationFailed.on("slug", kind.taken_message)
