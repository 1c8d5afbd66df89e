"""Test harness: a throwaway PostgreSQL database built from the migrations once per run (per
xdist worker), Redis for rate limits, Huey in immediate mode, tables emptied after each test.

Nothing here skips: a missing PostgreSQL or Redis is an error, never a silent skip."""
from __future__ import annotations

import os
import tempfile
import uuid

_RUN = uuid.uuid4().hex[:8]
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEST_DATABASE = f"checkie_test_{_RUN}_{_WORKER}"

# The environment must be in place before checkie.extensions builds Huey at import time.
os.environ.update(
    {
        "CHECKIE_ENV": "test",
        "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{TEST_DATABASE}",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "HUEY_IMMEDIATE": "1",
        "HUEY_NAME": f"checkie-test-{_RUN}-{_WORKER}",
        "RATELIMIT_KEY_PREFIX": f"checkie-test-{_RUN}-{_WORKER}",
        "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
        "CHECKIE_INSTANCE_PATH": tempfile.mkdtemp(prefix="checkie-test-instance-"),
        "APP_URL": "http://localhost",
    }
)

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from checkie import create_app  # noqa: E402
from checkie.catalog import snapshot  # noqa: E402
from checkie.extensions import db as _db  # noqa: E402
from checkie.extensions import limiter  # noqa: E402
from tests.apps import TEST_APP_SETTINGS, admin_sql  # noqa: E402
from tests.webhooks.receiver import Receiver  # noqa: E402

pytest_plugins = ["tests.fixtures", "tests.consumers", "tests.providers.localstripe"]


@pytest.fixture(scope="session")
def app():
    admin_sql(f'CREATE DATABASE "{TEST_DATABASE}"')
    app = create_app(TEST_APP_SETTINGS)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()
    admin_sql(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')


def _empty_all_tables(app) -> None:
    """DELETE children first, then reset the sequences: on tables this small it is two orders of
    magnitude faster than TRUNCATE, which rewrites every table's files."""
    with app.app_context():
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(
                sa.text(
                    "SELECT setval(s.oid::regclass, 1, false) FROM pg_class s "
                    "WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace"
                )
            )


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Each test starts with empty tables, fresh rate-limit counters and no cached page views
    (ids start again at 1, so a view cached by the previous test could match a new page)."""
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        _empty_all_tables(app)
        snapshot.forget_all()
        with app.app_context():
            limiter.reset()


class _RequestScopedClient(FlaskClient):
    """Each request runs in an app context of its own, as in production; otherwise a test's
    open `db` context would be reused, sharing `g` and the session between requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = _RequestScopedClient
    return app.test_client()


@pytest.fixture
def db(app):
    """The SQLAlchemy session, inside an app context of the test's own."""
    with app.app_context():
        yield _db.session
        _db.session.remove()


@pytest.fixture
def receiver():
    """A local webhook receiver on 127.0.0.1 (tests/webhooks/receiver.py), stopped afterwards."""
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()
