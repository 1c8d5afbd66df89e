"""Rows the current transaction already holds, so that it locks each of them only once.

Checkout services lock the session row (SELECT … FOR UPDATE) before every decision, and one
request runs several of them in one transaction: the widget's view, update_checkout or
payments.initiation, apply_event, payments.outcomes. A row lock lasts until the transaction ends,
so once it is taken nobody else can change the row, and this transaction's own changes are on
the loaded object already: every further SELECT … FOR UPDATE would only cost a round trip (and
re-reading with populate_existing would reset the object's loaded relationships).

So a transaction remembers in `Session.info` what it holds:
- checkout sessions it locked, with the page version read with the lock (catalog.snapshot);
- whatever a later module keeps with `hold` (payments.outcomes: the payment attempts a
  transaction inserted itself, which no other transaction can see before commit).

Everything is forgotten when the outermost transaction ends (commit, rollback or close), and
an entry is forgotten when a savepoint it was taken in rolls back: PostgreSQL releases a row
lock taken inside a savepoint at ROLLBACK TO (a lock taken before the savepoint stays), and a
rolled-back insert is gone.
"""
from __future__ import annotations

from collections.abc import Hashable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from checkie.catalog import snapshot
from checkie.catalog.models import Page
from checkie.catalog.snapshot import PageView
from checkie.checkout.models import CheckoutSession
from checkie.database import innermost_transaction, undone_by

_KEY = "checkie.held_rows"
_LOCKED = "checkout_session"


def lock_checkout(db: Session, checkout: CheckoutSession) -> CheckoutSession:
    """Lock the row for this transaction and re-read it, so decisions see the committed state.
    Once per transaction: later calls find the lock held and change nothing."""
    if held_lock(db, checkout.id):
        return checkout
    locked = lock_checkout_of_id(db, checkout.id)
    assert locked is not None  # the caller holds the session: its row exists
    return locked


def lock_checkout_of_id(db: Session, session_id: str) -> CheckoutSession | None:
    """The session with this id, locked and re-read (None when there is none)."""
    db.flush()
    return _remember_lock(db, db.execute(_LOCK_BY_ID, {"session_id": session_id}).one_or_none())


def held_lock(db: Session, session_id: str) -> bool:
    """Whether this transaction holds the lock of checkout session `session_id`."""
    return held(db, (_LOCKED, session_id)) is not None


def checkout_page(db: Session, checkout: CheckoutSession) -> PageView:
    """The session's page as shoppers see it (catalog.snapshot: no query on a cache hit), at the
    version read with the session's lock when this transaction holds it."""
    version = held(db, (_LOCKED, checkout.id))
    if not isinstance(version, int):  # None: the lock is not held
        return snapshot.current_page(db, checkout.page_id)
    return snapshot.page_view(db, checkout.page_id, version)


def checkout_with_page_version() -> sa.Select:
    """SELECT a checkout session and its page's version (what catalog.snapshot caches views
    under): every read that goes on to show or check the page starts here."""
    return sa.select(CheckoutSession, Page.version).join(Page, Page.id == CheckoutSession.page_id)


def _locking(select: sa.Select) -> sa.Select:
    """SELECT … FOR UPDATE OF the session row only (its page's row is read, not locked: every
    checkout of the page would queue on it), re-reading the session."""
    return select.with_for_update(of=CheckoutSession).execution_options(populate_existing=True)


#: The session (and its page's version) by the `session_id` bound at execution. One statement
#: object for every request: SQLAlchemy reuses its cache key and compiled form as they are,
#: where a new SELECT per call made it walk the statement for a cache key every time.
CHECKOUT_BY_ID = checkout_with_page_version().where(CheckoutSession.id == sa.bindparam("session_id"))
_LOCK_BY_ID = _locking(CHECKOUT_BY_ID)


def lock_checkout_where(db: Session, where) -> CheckoutSession | None:
    """`lock_checkout_of_id` for any condition on the session (e.g. a subquery); remembers the lock."""
    db.flush()
    return _remember_lock(db, db.execute(_locking(checkout_with_page_version().where(where))).one_or_none())


def _remember_lock(db: Session, row: sa.Row | None) -> CheckoutSession | None:
    if row is None:
        return None
    checkout, version = row
    hold(db, (_LOCKED, checkout.id), version)
    return checkout


# ---------------------------------------------------------------- what a transaction holds


def hold(db: Session, key: Hashable, value: object) -> None:
    """Remember `key` → `value` (not None) until the transaction, or the savepoint it is taken
    in, ends without it."""
    if isinstance(db, scoped_session):  # Flask-SQLAlchemy's db.session
        db = db()
    marker = innermost_transaction(db)
    db.info.setdefault(_KEY, {})[key] = (marker, value)


def held(db: Session, key: Hashable) -> object | None:
    """The value remembered for `key` in this transaction, or None."""
    entry = db.info.get(_KEY, {}).get(key)
    return entry[1] if entry is not None else None


@event.listens_for(Session, "after_transaction_end")
def _forget_all(db: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        db.info.pop(_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_savepoint(db: Session, previous_transaction: SessionTransaction) -> None:
    entries = db.info.get(_KEY)
    if not entries:
        return
    if not previous_transaction.nested:
        db.info.pop(_KEY, None)
        return
    for key, (marker, _value) in list(entries.items()):
        if undone_by(marker, previous_transaction):
            del entries[key]
