"""Delivering one outbox email: over SMTP when SMTP_URL is set, to the log otherwise."""
from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.database import utcnow
from checkie.notifications.models import EmailMessage, EmailStatus

log = logging.getLogger("checkie.email")

#: After this many failed tries the email is marked failed and left for an operator.
MAX_ATTEMPTS = 8


def _retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the 1st, 2nd, 3rd … failure, at most an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def claim_due_email(db: Session, message_id: int) -> EmailMessage | None:
    """Lock the row if it is still pending and due; None if it is sent, not due, or another
    worker holds it (SKIP LOCKED), so two consumers never send the same email."""
    return db.scalar(
        sa.select(EmailMessage)
        .where(EmailMessage.id == message_id, EmailMessage.status == EmailStatus.PENDING, EmailMessage.due_at <= utcnow())
        .with_for_update(skip_locked=True)
    )


def due_email_ids(db: Session, *, limit: int = 500) -> list[int]:
    return list(
        db.scalars(
            sa.select(EmailMessage.id)
            .where(EmailMessage.status == EmailStatus.PENDING, EmailMessage.due_at <= utcnow())
            .order_by(EmailMessage.due_at)
            .limit(limit)
        )
    )


def _mime(message: EmailMessage, mail_from: str) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = mail_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime.set_content(message.text_body)
    if message.html_body:
        mime.add_alternative(message.html_body, subtype="html")
    return mime


def _send_smtp(mime: MimeMessage, smtp_url: str) -> None:
    """smtp://user:pass@host:587 (STARTTLS when offered), smtps://… (implicit TLS)."""
    url = urlsplit(smtp_url)
    secure = url.scheme == "smtps"
    port = url.port or (465 if secure else 25)
    smtp_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with smtp_class(url.hostname or "localhost", port, timeout=30) as smtp:
        if not secure:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(mime)


def deliver(db: Session, message: EmailMessage, *, smtp_url: str, mail_from: str) -> None:
    """Send a claimed message and record the outcome on its row (the caller commits).

    Any failure counts as an attempt, not only network errors: a message that can never be
    sent (a malformed address, say) must end as failed rather than be retried forever."""
    message.attempts += 1
    try:
        if smtp_url:
            _send_smtp(_mime(message, mail_from), smtp_url)
        else:
            log.info("email to %s: %s\n%s", message.to_address, message.subject, message.text_body)
    except Exception as exc:
        _record_failure(message, exc)
        return
    message.status = EmailStatus.SENT
    message.sent_at = utcnow()
    message.last_error = None


def _record_failure(message: EmailMessage, exc: Exception) -> None:
    """Back off exponentially (the sweeper picks the row up once due), or give up."""
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = EmailStatus.FAILED
        log.error("email %s to %s failed for good after %s attempts: %s", message.id, message.to_address, message.attempts, exc)
    else:
        message.due_at = utcnow() + _retry_delay(message.attempts)
        log.warning("email %s to %s failed (attempt %s), retrying at %s: %s", message.id, message.to_address, message.attempts, message.due_at.isoformat(), exc)
