"""Sending the outbox: SMTP or the log, back-off and giving up, the sweeper, and no double sends."""
import base64
import io
import logging
import socket
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie import outbox
from checkie.database import utcnow
from checkie.extensions import db as _db
from checkie.notifications import sending
from checkie.notifications.models import EmailMessage, EmailStatus
from checkie.notifications.services import queue_email
from checkie.notifications.tasks import send_email, sweep_email_outbox
from tests.apps import fresh_app
from tests.factories import make_email
from tests.smtp import SmtpSink


def closed_port_url() -> str:
    """An SMTP URL nobody listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"smtp://127.0.0.1:{port}"


def reload(db, message: EmailMessage) -> EmailMessage:
    db.expire_all()
    return db.get(EmailMessage, message.id)


@pytest.fixture
def smtp(app, monkeypatch):
    with SmtpSink() as sink:
        monkeypatch.setitem(app.config, "SMTP_URL", sink.url)
        yield sink


def test_sends_over_smtp_after_commit(app, db, smtp):
    message = queue_email(db, to="ada@example.com", template="test_message", subject="Hi Ada", name="Ada")
    assert smtp.messages == []  # nothing leaves before the transaction commits
    db.commit()
    (mail,) = smtp.messages
    assert mail["To"] == "ada@example.com" and mail["Subject"] == "Hi Ada"
    assert mail["From"] == app.config["MAIL_FROM"]
    assert "Hello Ada" in mail.get_content()
    sent = reload(db, message)
    assert sent.status is EmailStatus.SENT and sent.attempts == 1 and sent.sent_at is not None


def test_html_body_goes_as_an_alternative(db, smtp):
    message = make_email(db, html_body="<p>Hello <b>Ada</b></p>")
    db.commit()
    send_email(message.id)
    (mail,) = smtp.messages
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]


def test_smtp_credentials_come_from_the_url(app, db, monkeypatch):
    with SmtpSink() as sink:
        monkeypatch.setitem(app.config, "SMTP_URL", sink.url.replace("//", "//mailer%40shop.test:p%40ss@"))
        message = make_email(db)
        db.commit()
        send_email(message.id)
    assert base64.b64decode(sink.envelopes[0]["auth"]) == b"\0mailer@shop.test\0p@ss"


def test_without_smtp_the_email_goes_to_the_log(app, db):
    message = make_email(db, text_body="Reset: http://localhost/reset/abc")
    db.commit()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    # An app of its own sets up logging afresh (the harness's in-process migration run may
    # have disabled loggers that existed before it).
    with fresh_app(app, {"SMTP_URL": ""}) as logging_app, logging_app.app_context():
        logging.getLogger("checkie.email").addHandler(handler)
        try:
            send_email(message.id)
        finally:
            logging.getLogger("checkie.email").removeHandler(handler)
    assert "email to ada@example.com: Hello" in stream.getvalue()
    assert "http://localhost/reset/abc" in stream.getvalue()
    assert reload(db, message).status is EmailStatus.SENT


def test_failures_back_off_then_give_up(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", closed_port_url())
    message = make_email(db)
    db.commit()
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        started = utcnow()
        send_email(message.id)
        row = reload(db, message)
        assert (row.status, row.attempts) == (EmailStatus.PENDING, attempt)
        assert "ConnectionRefusedError" in row.last_error
        delay = timedelta(minutes=min(2 ** (attempt - 1), 60))
        assert started + delay <= row.due_at <= utcnow() + delay
        send_email(message.id)  # not due yet: nothing happens
        assert reload(db, message).attempts == attempt
        row.due_at = utcnow() - timedelta(seconds=1)
        db.commit()
    send_email(message.id)
    row = reload(db, message)
    assert (row.status, row.attempts) == (EmailStatus.FAILED, outbox.MAX_ATTEMPTS)
    row.due_at = utcnow() - timedelta(seconds=1)
    db.commit()
    send_email(message.id)
    sweep_email_outbox()
    assert reload(db, message).attempts == outbox.MAX_ATTEMPTS  # failed is final


def test_a_message_that_cannot_be_built_counts_as_a_failed_attempt(db, smtp):
    message = make_email(db, to_address="broken\naddress@example.com")
    db.commit()
    send_email(message.id)
    row = reload(db, message)
    assert (row.status, row.attempts) == (EmailStatus.PENDING, 1) and row.last_error
    assert smtp.messages == []


def test_sweeper_sends_due_pending_emails_only(db, smtp):
    lost = make_email(db, subject="lost task")
    retry_due = make_email(db, subject="retry due", attempts=2, due_at=utcnow() - timedelta(seconds=5))
    later = make_email(db, subject="retry later", attempts=1, due_at=utcnow() + timedelta(minutes=5))
    done = make_email(db, subject="already sent", status=EmailStatus.SENT)
    gave_up = make_email(db, subject="failed", status=EmailStatus.FAILED)
    db.commit()
    sweep_email_outbox()
    assert sorted(mail["Subject"] for mail in smtp.messages) == ["lost task", "retry due"]
    assert reload(db, lost).status is EmailStatus.SENT and reload(db, retry_due).attempts == 3
    assert reload(db, later).status is EmailStatus.PENDING
    assert reload(db, done).attempts == 0 and reload(db, gave_up).attempts == 0


def test_a_claimed_email_is_skipped_by_other_consumers(app, db):
    message = make_email(db)
    db.commit()
    with Session(_db.engine) as a, Session(_db.engine) as b:
        assert sending.claim_due_emails(a, [message.id]) != []  # holds the row lock
        b.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # a blocking claim fails fast, not hangs
        assert sending.claim_due_emails(b, [message.id]) == []  # SKIP LOCKED: no wait, no row
        a.rollback()
        assert sending.claim_due_emails(b, [message.id]) != []  # free again


def test_two_consumers_racing_send_one_email_once(app, db, monkeypatch):
    """The first consumer holds the row while the SMTP server dawdles; the second skips it."""
    message_id = make_email(db).id
    db.commit()
    finished = []

    def consume():
        with app.app_context():
            send_email(message_id)
        finished.append(True)

    with SmtpSink(delay=0.5) as sink:
        monkeypatch.setitem(app.config, "SMTP_URL", sink.url)
        threads = [threading.Thread(target=consume) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert len(finished) == 2 and len(sink.messages) == 1
    row = db.get(EmailMessage, message_id)
    assert (row.status, row.attempts) == (EmailStatus.SENT, 1)
