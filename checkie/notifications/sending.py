"""Delivering one outbox email: over SMTP when SMTP_URL is set, to the log otherwise."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage as MimeMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from checkie import outbox
from checkie.database import utcnow
from checkie.notifications.models import EmailMessage, EmailStatus

log = logging.getLogger("checkie.email")

def claim_due_emails(db: Session, message_ids: list[int]) -> list[EmailMessage]:
    """Lock the rows that are still pending and due, in id order; those sent, not due or held by
    another worker (SKIP LOCKED) are left out, so two consumers never send the same email."""
    return outbox.claim_all_due(db, EmailMessage.id, message_ids, pending=EmailStatus.PENDING)


def due_email_ids(db: Session, *, limit: int = 500) -> list[int]:
    return outbox.due_keys(db, EmailMessage.id, pending=EmailStatus.PENDING, limit=limit)


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
        outbox.record_failure(message, f"{type(exc).__name__}: {exc}", failed=EmailStatus.FAILED, log=log,
                              what=f"email {message.id} to {message.to_address}")
        return
    message.status = EmailStatus.SENT
    message.sent_at = utcnow()
    message.last_error = None
