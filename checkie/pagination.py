"""Keyset pagination for every list, newest first (SPEC §12): each page is one range scan of an
index, never an OFFSET, which would read and throw away every row of the pages before it.

A list is ordered by its id, or by `created_at` with the id breaking ties (the tables'
`(store_id, created_at)` indexes). A page starts after a cursor: the id of the last row of the
page before. When the order has more columns than the id, that row is looked up within the
caller's scope (its store), so a cursor naming another store's row is refused, never a peek at it.

The JSON API hands cursors out opaque (`encode_cursor`) and refuses a forged or malformed one
with a 422 on `cursor`; the dashboard's links carry the plain id (`?before=`, `?after=`).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any, Generic, NamedTuple, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.database import MAX_ID
from checkie.errors import ValidationFailed

T = TypeVar("T")
#: A row's id: an integer, or a string (checkout sessions).
Key = int | str


class InvalidCursor(ValidationFailed):
    """A cursor that is not one we handed out, or names no row the list could continue after."""

    def __init__(self) -> None:
        super().__init__("Invalid cursor.", fields={"cursor": ["Invalid cursor."]})


class Slice(NamedTuple, Generic[T]):
    """One page of a list: its rows, and whether more rows follow the last one."""

    rows: list[T]
    more: bool

    @property
    def next_id(self) -> Key | None:
        """The cursor of the page after this one (the last row's id), or None on the last page."""
        return cast(Any, self.rows[-1]).id if self.more else None


def keyset_page(
    db: Session, stmt: sa.Select[T], *order: Any, after: Key | None, limit: int,
    scope: Iterable[sa.ColumnElement[bool]] = (),
) -> Slice[T]:
    """Up to `limit` rows of `stmt`, newest first by the `order` columns (the id last), after the
    row whose id is `after` (from the newest when None). With more columns than the id, that row
    must be found within `scope` (e.g. `Model.store_id == store_id`); InvalidCursor otherwise."""
    if after is not None:
        stmt = stmt.where(_after(order, _key_of(db, order, after, scope)))
    rows = list(db.scalars(stmt.order_by(*(column.desc() for column in order)).limit(limit + 1)))
    return Slice(rows[:limit], len(rows) > limit)


def _key_of(db: Session, order: tuple[Any, ...], after: Key, scope: Iterable[sa.ColumnElement[bool]]) -> tuple:
    """The values of the `order` columns for the row `after` names."""
    if isinstance(after, int) and not 0 < after <= MAX_ID:
        raise InvalidCursor()  # an id no BIGINT can hold must not reach PostgreSQL
    if len(order) == 1:
        return (after,)
    key = db.execute(sa.select(*order).where(order[-1] == after, *scope)).first()
    if key is None:
        raise InvalidCursor()
    return tuple(key)


def _after(order: tuple[Any, ...], key: tuple) -> sa.ColumnElement[bool]:
    """Rows that come after `key` newest first: `(a, b) < (x, y)`, spelled out column by column
    (each database reads it, and the leading column stays an index range)."""
    column, value = order[0], key[0]
    if len(order) == 1:
        return column < value
    return sa.or_(column < value, sa.and_(column == value, _after(order[1:], key[1:])))


def id_or_none(value: int | None) -> int | None:
    """An id from a URL when a BIGINT can hold it, else None: the dashboard ignores a cursor it
    cannot use and lists from the newest."""
    return value if value is not None and 0 < value <= MAX_ID else None


# ---------------------------------------------------------------- opaque cursors (JSON API)

def encode_cursor(key: Key | None) -> str | None:
    """The opaque cursor for a row id (URL-safe base64); None stays None (no page follows)."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The integer id inside a cursor; InvalidCursor for anything we could not have handed out
    (not base64, not ASCII digits, 0, past BIGINT)."""
    text = _unwrap(cursor)
    if text is None:
        return None
    if not (text.isdigit() and 0 < int(text) <= MAX_ID):
        raise InvalidCursor()
    return int(text)


def decode_text_cursor(cursor: str | None) -> str | None:
    """The string id inside a cursor (checkout sessions); InvalidCursor when it cannot be one."""
    text = _unwrap(cursor)
    if text is not None and not text.isprintable():
        raise InvalidCursor()
    return text


def _unwrap(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, ValueError):  # ValueError: non-ASCII input, or bytes that are not ASCII
        raise InvalidCursor() from None
