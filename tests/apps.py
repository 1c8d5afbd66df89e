"""Apps and database sessions for tests: a separate app on the test database, and a session in
an app context of its own.

Imported by tests/conftest.py only after it has set the environment checkie reads at import."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask

from checkie import create_app
from checkie.extensions import db

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_sql(sql: str) -> None:
    """Run `sql` as PostgreSQL's admin, outside a transaction (CREATE/DROP DATABASE)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def fresh_app(
    session_app: Flask, overrides: dict | None = None, *, setup: Callable[[Flask], None] | None = None
) -> Iterator[Flask]:
    """A separate app on the test database (`session_app`, the `app` fixture, creates it).
    `setup` may add routes before the first request. The app's logging setup replaces the
    shared `checkie` handlers; they are put back after."""
    assert session_app.config["TESTING"]
    logger = logging.getLogger("checkie")
    saved = logger.handlers[:]
    app = create_app({"PROPAGATE_EXCEPTIONS": False, **(overrides or {})})
    if setup:
        setup(app)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        logger.handlers[:] = saved


@contextmanager
def app_db(app) -> Iterator:
    """A database session in an app context of its own, closed again before the next request.

    HTTP tests must not hold an app context while they send requests (as the `db` fixture
    does): Flask reuses a pushed app context, so every request of every client would share one
    `g` (Flask-Login's loaded user, the CSRF token) and one SQLAlchemy session, which no real
    server does, and session tests would pass for the wrong reasons."""
    with app.app_context():
        yield db.session
