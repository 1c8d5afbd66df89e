"""The task decorator every domain uses, and enqueue-after-commit.

Tasks take ids, run inside an app context of their own (so they get their own database
session), and are only sent after the transaction that created their work has committed:
a rollback drops them, so a consumer never sees a row that does not exist yet.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from checkie.database import innermost_transaction, undone_by
from checkie.extensions import db, huey

log = logging.getLogger("checkie.tasks")

_PENDING_KEY = "checkie.after_commit"
_app: Flask | None = None
_app_factory: Callable[[], Flask] | None = None


def bind_app(app: Flask) -> None:
    """Remember the app tasks run in (the consumer's, or the one under test)."""
    global _app
    _app = app


def set_app_factory(factory: Callable[[], Flask]) -> None:
    """How to build an app when a task runs with none bound and none current: checkie's
    __init__ hands over create_app, since this module sits below the app factory."""
    global _app_factory
    _app_factory = factory


def _task_app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        assert _app_factory is not None, "checkie/__init__.py sets the app factory on import"
        bind_app(_app_factory())
    assert _app is not None
    return _app


def task(**huey_options) -> Callable:
    """`@task()` – a Huey task whose body runs in a fresh app context and database session."""

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run_in_app(*args, **kwargs):
            with _task_app().app_context():
                try:
                    return fn(*args, **kwargs)
                finally:
                    db.session.remove()

        return huey.task(**huey_options)(run_in_app)  # Huey names it <module>.<function>

    return decorator


def periodic_task(validate_datetime, **huey_options) -> Callable:
    """`@periodic_task(crontab(minute="*"))` with the same app-context wrapping as `task`."""

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run_in_app():
            with _task_app().app_context():
                try:
                    return fn()
                finally:
                    db.session.remove()

        return huey.periodic_task(validate_datetime, **huey_options)(run_in_app)

    return decorator


class RowId:
    """A task argument that is the primary key of a row added in this transaction, read when
    the task is sent (after the commit, which flushed it) rather than when it is queued: a
    service need not flush on its own just to learn the id, so its rows go out with the
    transaction's next flush (several of one table in one INSERT). Reading the key after the
    commit issues no query: it is the object's identity, not an expired attribute."""

    def __init__(self, row: object) -> None:
        self.row = row

    def resolve(self) -> object | None:
        """The key, or None when the row never reached the database (it was expunged)."""
        identity = sa.inspect(self.row).identity
        return identity[0] if identity else None


def enqueue_after_commit(task_fn: Callable, *args, **kwargs) -> None:
    """Send `task_fn(*args)` to Huey once the current transaction commits; drop it on rollback.
    A RowId argument is sent as its row's primary key.

    A rolled-back savepoint drops only what was enqueued inside it: a service that retries an
    insert in a savepoint must not lose the email queued before it."""
    _remember(task_fn, args, kwargs, batched=False)


def enqueue_in_batch_after_commit(task_fn: Callable, item: object) -> None:
    """Add `item` (a RowId, or a plain value) to one call `task_fn([item, …])` sent once the
    current transaction commits: what a transaction queues several of (a payment's receipt and
    the owner's new-sale email) costs the worker one task instead of one each. A rolled-back
    savepoint drops only the items added inside it."""
    _remember(task_fn, (item,), {}, batched=True)


def _remember(task_fn: Callable, args: tuple, kwargs: dict, *, batched: bool) -> None:
    session = db.session()
    # Begin now if nothing did yet, so that a rollback has a transaction to end (and drops
    # the task) rather than leaving it for whatever commits next.
    marker = innermost_transaction(session) or session.begin()
    session.info.setdefault(_PENDING_KEY, []).append((marker, task_fn, args, kwargs, batched))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    """The data is committed whatever happens here, so a queue that is down must not turn the
    request into an error: log it; durable work is a row its sweeper re-enqueues.

    SQLAlchemy fires after_commit for a released savepoint too; nothing is committed then
    (the outer transaction goes on), so nothing is sent."""
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING_KEY, [])
    batches: dict[Callable, list] = {}
    for _marker, task_fn, args, kwargs, batched in pending:
        resolved = tuple(arg.resolve() if isinstance(arg, RowId) else arg for arg in args)
        if any(isinstance(arg, RowId) and value is None for arg, value in zip(args, resolved, strict=True)):
            continue  # its row was never written: there is nothing to do
        if batched:
            batches.setdefault(task_fn, []).extend(resolved)
        else:
            _send(task_fn, resolved, kwargs)
    for task_fn, items in batches.items():
        _send(task_fn, (items,), {})


def _send(task_fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        task_fn(*args, **kwargs)
    except Exception:
        log.exception("could not enqueue %s%r after commit", getattr(task_fn, "name", task_fn), args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
        return
    pending = session.info.get(_PENDING_KEY, [])
    pending[:] = [entry for entry in pending if not undone_by(entry[0], previous_transaction)]
