"""The task decorator every domain uses, and enqueue-after-commit.

Tasks take ids, run inside an app context of their own (so they get their own database
session), and are only sent after the transaction that created their work has committed:
a rollback drops them, so a consumer never sees a row that does not exist yet.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from checkie.extensions import db, huey

_PENDING_KEY = "checkie.after_commit"
_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """Remember the app tasks run in (the consumer's, or the one under test)."""
    global _app
    _app = app


def _task_app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from checkie import create_app

        bind_app(create_app())
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

        return huey.task(name=f"{fn.__module__}.{fn.__name__}", **huey_options)(run_in_app)

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

        return huey.periodic_task(validate_datetime, name=f"{fn.__module__}.{fn.__name__}", **huey_options)(run_in_app)

    return decorator


def enqueue_after_commit(task_fn: Callable, *args, **kwargs) -> None:
    """Send `task_fn(*args)` to Huey once the current transaction commits; drop it on rollback."""
    db.session.info.setdefault(_PENDING_KEY, []).append((task_fn, args, kwargs))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    for task_fn, args, kwargs in pending:
        task_fn(*args, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)
