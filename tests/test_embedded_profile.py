"""Smoke test of the embedded profile `make run` uses: no DATABASE_URL, no REDIS_URL.

Everything runs in subprocesses with a clean environment (tests/embedded.py), against a SQLite
database and a SQLite Huey queue in a temporary instance folder. Nothing here touches
PostgreSQL or Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checkie.cli import DEMO_EMAIL, DEMO_PASSWORD, DEMO_STORE_NAME
from tests.embedded import ROOT, embedded_env, query, run_flask, run_python, upgraded

pytestmark = pytest.mark.embedded

@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    """A migrated embedded instance folder, shared by the tests of this module."""
    path = tmp_path_factory.mktemp("embedded-instance")
    upgraded(path)
    return path


def test_migrations_reach_head_on_sqlite(instance):
    heads = run_flask("db", "heads", env=embedded_env(instance)).stdout.split()
    assert heads, "no migration head"
    assert query(instance, "SELECT version_num FROM alembic_version") == [(heads[0],)]


def test_seed_demo_runs_twice_without_duplicates(instance):
    for _ in range(2):
        output = run_flask("seed-demo", env=embedded_env(instance)).stdout
        assert DEMO_EMAIL in output and DEMO_PASSWORD in output and "http://127.0.0.1:5000" in output

    users = query(instance, "SELECT id, email_verified_at FROM users WHERE email = ?", DEMO_EMAIL)
    assert len(users) == 1 and users[0][1] is not None
    stores = query(instance, "SELECT owner_id, currency FROM stores WHERE name = ?", DEMO_STORE_NAME)
    assert stores == [(users[0][0], "USD")]


def test_register_and_open_a_store(instance):
    result = run_python(
        """
        import json
        from checkie import create_app
        from checkie.accounts.services import create_user
        from checkie.extensions import db
        from checkie.stores.services import create_store

        app = create_app()
        with app.app_context():
            user = create_user(db.session, email="smoke@example.com", password="smoke-test-password", name="Smoke", verified=True)
            store = create_store(db.session, owner=user, name="Smoke Shop", currency="EUR")
            db.session.commit()
            by_service = {"user": user.id, "store": store.id, "slug": store.slug, "currency": store.currency}
        client = app.test_client()
        health = client.get("/healthz")
        login_page = client.get("/login")
        register = client.post(
            "/api/auth/register", json={"email": "api@example.com", "password": "api-test-password", "name": "Api"}
        )
        token = (register.get_json(silent=True) or {}).get("accessToken", "")
        new_store = client.post(
            "/api/stores", json={"name": "Api Shop", "currency": "USD"}, headers={"Authorization": f"Bearer {token}"}
        )
        print(json.dumps({
            "service": by_service,
            "health": health.status_code,
            "login_page": [login_page.status_code, login_page.get_data(as_text=True)[:2000]],
            "register": [register.status_code, register.get_json(silent=True)],
            "new_store": [new_store.status_code, new_store.get_json(silent=True)],
        }))
        """,
        embedded_env(instance, HUEY_IMMEDIATE="1"),
    )

    assert result["service"]["user"] and result["service"]["store"]
    assert result["service"]["currency"] == "EUR" and result["service"]["slug"]
    assert result["health"] == 200
    assert result["login_page"][0] == 200 and "<form" in result["login_page"][1]
    assert result["register"][0] == 201, result["register"]
    assert result["register"][1]["user"]["email"] == "api@example.com"
    assert result["new_store"][0] == 201, result["new_store"]
    assert result["new_store"][1]["name"] == "Api Shop"
    assert query(instance, "SELECT name, currency FROM stores WHERE name IN ('Smoke Shop', 'Api Shop') ORDER BY name") == [
        ("Api Shop", "USD"),
        ("Smoke Shop", "EUR"),
    ]


def test_a_consumer_runs_tasks_from_the_sqlite_queue(instance):
    """Without HUEY_IMMEDIATE the web process queues tasks in instance/huey.db and a separate
    `huey_consumer` runs them: the pair `make run` starts."""
    env = embedded_env(instance, HUEY_NAME="checkie-smoke")
    queued = run_python(
        """
        import json
        from checkie import create_app
        from checkie.extensions import db, huey
        from checkie.notifications.services import queue_email

        app = create_app()
        with app.app_context():
            message = queue_email(db.session, to="queue@example.com", template="test_message", subject="Smoke", name="Q")
            db.session.commit()
            print(json.dumps({"id": message.id, "huey": type(huey).__name__, "pending": huey.pending_count()}))
        """,
        env,
    )
    assert queued["huey"] == "SqliteHuey" and queued["pending"] >= 1
    assert (instance / "huey.db").exists()
    assert query(instance, "SELECT status FROM email_messages WHERE id = ?", queued["id"]) == [("pending",)]

    consumer = subprocess.Popen(
        [sys.executable, "-m", "huey.bin.huey_consumer", "checkie.worker.huey", "--workers", "1", "--worker-type", "thread"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and consumer.poll() is None:
            status = query(instance, "SELECT status FROM email_messages WHERE id = ?", queued["id"])[0][0]
            if status == "sent":
                break
            time.sleep(0.25)
    finally:
        if consumer.poll() is None:
            os.killpg(consumer.pid, signal.SIGTERM)
        log = consumer.communicate(timeout=30)[0]
    assert status == "sent", f"the consumer did not send the queued email (status {status})\n{log}"
