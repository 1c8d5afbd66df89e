"""Outbox rows (SPEC §8): durable work kept as a database row with a status, an attempt count
and a due time. A task claims its row (FOR UPDATE SKIP LOCKED, so two consumers never do the
same work at once), records the outcome on it, and backs off on failure; a periodic sweeper
re-enqueues rows that are due and still pending, since Huey drops a task whose consumer dies.

The email outbox and the test provider's events share these rules; each keeps its own table.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from checkie.database import utcnow

#: After this many failed tries the row is marked failed and left for an operator.
MAX_ATTEMPTS = 8


def claim_due(db: Session, key: InstrumentedAttribute, value, *, pending):
    """Lock the row whose `key` is `value` if it is still `pending` and due; None if it is done,
    not due, or another worker holds it."""
    model = key.class_
    return db.scalar(
        sa.select(model).where(key == value, model.status == pending, model.due_at <= utcnow()).with_for_update(skip_locked=True)
    )


def claim_all_due(db: Session, key: InstrumentedAttribute, values: list, *, pending) -> list:
    """`claim_due` for every row whose `key` is in `values`, in one query (ordered by key, so
    two claimers lock in the same order), leaving out those not pending, not due or held."""
    model = key.class_
    return list(db.scalars(
        sa.select(model).where(key.in_(values), model.status == pending, model.due_at <= utcnow())
        .order_by(key).with_for_update(skip_locked=True)
    ))


def due_keys(db: Session, key: InstrumentedAttribute, *, pending, limit: int = 500) -> list:
    """The keys of rows that are pending and due, oldest due first: what the sweeper re-enqueues."""
    model = key.class_
    stmt = sa.select(key).where(model.status == pending, model.due_at <= utcnow()).order_by(model.due_at).limit(limit)
    return list(db.scalars(stmt))


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the 1st, 2nd, 3rd … failure, at most an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def record_failure(row, error: str, *, failed, log: logging.Logger, what: str) -> None:
    """Note a failed attempt on a claimed row (its `attempts` already counted): due again after
    the back-off, or `failed` for good once MAX_ATTEMPTS is reached. `what` names it in the log."""
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = failed
        log.error("%s failed for good after %s attempts: %s", what, row.attempts, error)
        return
    row.due_at = utcnow() + retry_delay(row.attempts)
    log.warning("%s failed (attempt %s), retrying at %s: %s", what, row.attempts, row.due_at.isoformat(), error)
