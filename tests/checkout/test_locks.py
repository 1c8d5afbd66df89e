"""checkout.locks: a transaction locks a checkout session's row once, and forgets the lock
exactly when PostgreSQL releases it (the transaction ends, or a savepoint it was taken in rolls
back), so a decision is never made on a row that is not locked."""
from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from checkie.checkout import locks, services
from checkie.extensions import db as _db
from tests.factories import make_page, open_checkout


@pytest.fixture
def session_id(db, store) -> str:
    checkout = open_checkout(db, make_page(db, store, amount=1000, publish=True))
    db.commit()
    return checkout.id


@contextlib.contextmanager
def row_locks_taken(db):
    """Collects the SELECT … FOR UPDATE statements the session sends meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "FOR UPDATE" in statement:
            seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def locked_elsewhere(session_id: str) -> bool:
    """Whether another connection finds the session's row locked (NOWAIT)."""
    with _db.engine.connect() as other:
        try:
            other.execute(sa.text("SELECT id FROM checkout_sessions WHERE id = :id FOR UPDATE NOWAIT"), {"id": session_id})
        except OperationalError:
            return True
        finally:
            other.rollback()
        return False


def test_a_session_is_locked_once_per_transaction(db, session_id):
    with row_locks_taken(db) as taken:
        checkout = services.lock_checkout_by_id(db, session_id)
        services.update_checkout(db, checkout, email="shopper@example.com")  # locks, then apply_event locks
        services.lock_checkout(db, checkout)
        assert services.lock_checkout_by_id(db, session_id) is checkout
    assert len(taken) == 1 and "FOR UPDATE OF checkout_sessions" in taken[0]
    assert locked_elsewhere(session_id)
    db.commit()
    assert not locked_elsewhere(session_id)


def test_the_next_transaction_locks_and_re_reads_again(db, session_id):
    checkout = services.lock_checkout_by_id(db, session_id)
    db.commit()
    with _db.engine.begin() as other:
        other.execute(sa.text("UPDATE checkout_sessions SET name = 'Changed elsewhere' WHERE id = :id"), {"id": session_id})
    with row_locks_taken(db) as taken:
        services.lock_checkout(db, checkout)
    assert len(taken) == 1 and checkout.name == "Changed elsewhere"
    assert locked_elsewhere(session_id)
    db.rollback()
    with row_locks_taken(db) as taken:
        services.lock_checkout(db, checkout)
    assert len(taken) == 1
    db.rollback()


def test_a_lock_taken_inside_a_rolled_back_savepoint_is_taken_again(db, session_id):
    checkout = services.get_checkout(db, session_id)
    savepoint = db.begin_nested()
    services.lock_checkout(db, checkout)
    assert locked_elsewhere(session_id)
    savepoint.rollback()
    assert not locked_elsewhere(session_id)  # PostgreSQL let go of it with the savepoint
    with row_locks_taken(db) as taken:
        services.lock_checkout(db, checkout)
    assert len(taken) == 1 and locked_elsewhere(session_id)
    db.rollback()


def test_a_lock_taken_before_a_savepoint_outlives_its_rollback(db, session_id):
    checkout = services.lock_checkout_by_id(db, session_id)
    savepoint = db.begin_nested()
    services.lock_checkout(db, checkout)
    savepoint.rollback()
    with row_locks_taken(db) as taken:
        services.lock_checkout(db, checkout)
    assert taken == [] and locked_elsewhere(session_id)
    db.rollback()


def test_a_released_savepoint_keeps_its_lock_until_the_outer_one_rolls_back(db, session_id):
    checkout = services.get_checkout(db, session_id)
    outer = db.begin_nested()
    with db.begin_nested():
        services.lock_checkout(db, checkout)
    with row_locks_taken(db) as taken:
        services.lock_checkout(db, checkout)
    assert taken == []
    outer.rollback()
    assert not locked_elsewhere(session_id)
    with row_locks_taken(db) as taken:
        services.lock_checkout(db, checkout)
    assert len(taken) == 1
    db.rollback()


def test_held_rows_are_forgotten_with_their_transaction(db, session_id):
    locks.hold(db, ("example", 1), "kept")
    savepoint = db.begin_nested()
    locks.hold(db, ("example", 2), "dropped")
    savepoint.rollback()
    assert (locks.held(db, ("example", 1)), locks.held(db, ("example", 2))) == ("kept", None)
    db.commit()
    assert locks.held(db, ("example", 1)) is None
