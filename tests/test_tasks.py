"""Huey wiring: tasks leave only after commit, run in an app context and session of their own,
and go to Redis (a real consumer picks them up) unless HUEY_IMMEDIATE is set."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import current_app, has_app_context

from checkie.accounts.models import User
from checkie.extensions import PROJECT_ROOT
from checkie.extensions import db as _db
from checkie.notifications.models import EmailMessage, EmailStatus
from checkie.notifications.services import queue_email
from checkie.tasks import bind_app, enqueue_after_commit, task
from tests.consumers import start_consumer
from tests.factories import make_user
from tests.smtp import SmtpSink

RUNS: list[dict] = []


@task()
def record_run(label: str, user_id: int | None = None) -> None:
    """Notes where it ran and what it could see."""
    session = _db.session()
    RUNS.append(
        {
            "label": label,
            "app": current_app._get_current_object() if has_app_context() else None,
            "session": session,
            "user_email": session.get(User, user_id).email if user_id else None,
        }
    )


@pytest.fixture(autouse=True)
def _forget_runs():
    RUNS.clear()
    yield
    RUNS.clear()


def labels() -> list[str]:
    return [run["label"] for run in RUNS]


def test_a_task_is_sent_only_when_the_transaction_commits(db):
    make_user(db)
    enqueue_after_commit(record_run, "first")
    db.flush()
    assert labels() == []
    db.commit()
    assert labels() == ["first"]
    db.commit()
    assert labels() == ["first"]  # sent once, not at every later commit


def test_a_rollback_drops_the_task(db):
    enqueue_after_commit(record_run, "doomed")
    db.rollback()
    db.commit()
    assert labels() == []


def test_a_rolled_back_savepoint_drops_only_its_own_tasks(db):
    enqueue_after_commit(record_run, "before")
    with db.begin_nested() as savepoint:
        enqueue_after_commit(record_run, "inside")
        savepoint.rollback()
    with db.begin_nested():
        enqueue_after_commit(record_run, "kept savepoint")
    db.commit()
    assert labels() == ["before", "kept savepoint"]


def test_a_released_savepoint_sends_nothing_before_the_transaction_commits(db):
    """SQLAlchemy reports a released savepoint as a commit: a task queued before it must still
    wait for the real commit (a consumer would not see the data yet)."""
    enqueue_after_commit(record_run, "queued first")
    with db.begin_nested():
        enqueue_after_commit(record_run, "inside")
    assert labels() == []
    db.flush()
    assert labels() == []
    db.commit()
    assert labels() == ["queued first", "inside"]


def test_a_task_runs_in_its_own_app_context_and_session(app, db):
    user = make_user(db, email="grace@example.com")
    enqueue_after_commit(record_run, "sees committed rows", user.id)
    db.commit()
    (run,) = RUNS
    assert run["app"] is app
    assert run["session"] is not db()  # not the caller's session (nor its uncommitted state)
    assert run["user_email"] == "grace@example.com"
    assert len(run["session"].identity_map) == 0  # and its session was closed afterwards


def test_a_task_called_outside_any_app_runs_in_the_bound_app(app):
    bind_app(app)
    thread = threading.Thread(target=record_run, args=("from a bare thread",))
    thread.start()
    thread.join(timeout=10)
    (run,) = RUNS
    assert run["app"] is app


def _huey_kind(tmp_path: Path, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("HUEY_IMMEDIATE", "REDIS_URL")}
    script = "from checkie.extensions import huey; print(type(huey).__name__, huey.immediate)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
        env={**base, "CHECKIE_INSTANCE_PATH": str(tmp_path), **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_environment_chooses_where_tasks_go(tmp_path):
    redis_url = os.environ["REDIS_URL"]
    assert _huey_kind(tmp_path, REDIS_URL=redis_url) == "RedisHuey False"
    assert _huey_kind(tmp_path, REDIS_URL=redis_url, HUEY_IMMEDIATE="1") == "RedisHuey True"
    assert _huey_kind(tmp_path) == "SqliteHuey False"


def stop(consumer: subprocess.Popen) -> str:
    consumer.send_signal(signal.SIGINT)  # Huey's graceful shutdown
    try:
        output, _ = consumer.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        consumer.kill()
        output, _ = consumer.communicate()
    return output


def wait_for_status(db, message_id: int, status: EmailStatus, timeout: float = 10) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.expire_all()
        message = db.get(EmailMessage, message_id)
        if message.status is status:
            return message
        time.sleep(0.1)
    raise AssertionError(f"email {message_id} is still {message.status.value} after {timeout}s")


def test_a_real_consumer_on_redis_sends_a_queued_email(db, huey_on_redis):
    message = queue_email(db, to="ada@example.com", template="test_message", subject="Via Redis", name="Ada")
    db.commit()
    # In Redis, waiting: nothing ran in this process.
    assert [t.name for t in huey_on_redis.pending()] == ["send_emails"]
    assert db.get(EmailMessage, message.id).status is EmailStatus.PENDING
    with SmtpSink() as sink:
        consumer = start_consumer(SMTP_URL=sink.url)
        try:
            sent = wait_for_status(db, message.id, EmailStatus.SENT)
        finally:
            output = stop(consumer)
    assert sent.attempts == 1, output
    assert [mail["Subject"] for mail in sink.messages] == ["Via Redis"]
    # The email's task was taken from Redis. (The consumer's scheduler may have queued a
    # periodic task at a minute boundary meanwhile; that one is not the email's.)
    assert [t.name for t in huey_on_redis.pending() if t.name == "send_emails"] == []
