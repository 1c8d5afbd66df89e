"""Apps and database sessions for tests: the settings every test app gets, a separate app on the
test database, and a session in an app context of its own.

Imported by tests/conftest.py only after it has set the environment checkie reads at import."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask, current_app

from checkie import create_app
from checkie.extensions import db


def post_in_process(url: str, body: bytes, headers: dict) -> int:
    """The test provider's transport here, where no server listens on APP_URL: its events go to
    the same URL, headers and view through the current app's test client, in an app context of
    their own (its own `g` and database session), like a real request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        return app.test_client().post(url, data=body, headers=headers).status_code


PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_sql(sql: str) -> None:
    """Run `sql` as PostgreSQL's admin, outside a transaction (CREATE/DROP DATABASE)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


#: Settings every app built in these tests gets on top of the environment.
TEST_APP_SETTINGS = {"TEST_PROVIDER_TRANSPORT": post_in_process}


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
    app = create_app({**TEST_APP_SETTINGS, "PROPAGATE_EXCEPTIONS": False, **(overrides or {})})
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
