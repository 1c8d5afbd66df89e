"""Queue emails as outbox rows; a task sends them after the transaction commits."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from jinja2 import TemplateNotFound
from sqlalchemy.orm import Session

from checkie.database import utcnow
from checkie.notifications.models import EmailMessage, EmailStatus
from checkie.notifications.tasks import send_emails
from checkie.tasks import RowId, enqueue_in_batch_after_commit


def _render(template: str, extension: str, context: dict) -> str | None:
    try:
        tpl = current_app.jinja_env.get_template(f"emails/{template}.{extension}")
    except TemplateNotFound:
        return None
    return tpl.render(app_url=current_app.config["APP_URL"], **context)


def queue_email(db: Session, *, to: str, template: str, subject: str, **context) -> EmailMessage:
    """Write an email to the outbox, rendered from `templates/emails/<template>.txt` (and `.html`
    when it exists). It is sent by a task once the caller's transaction commits: one task for
    every email the transaction queued.

    The row is added, not flushed: it is written with the transaction's next flush (at the
    latest its commit), so the emails of one transaction go out as one INSERT."""
    text_body = _render(template, "txt", context)
    if text_body is None:
        raise LookupError(f"no email template emails/{template}.txt")
    now = utcnow()
    message = EmailMessage(
        kind=template,
        to_address=to,
        subject=subject,
        text_body=text_body,
        html_body=_render(template, "html", context),
        # The columns' defaults, given here: the row is readable before its INSERT.
        status=EmailStatus.PENDING, attempts=0, due_at=now, created_at=now,
    )
    db.add(message)
    enqueue_in_batch_after_commit(send_emails, RowId(message))
    return message


def recent_emails(db: Session, *, page: int, per_page: int = 50) -> tuple[list[EmailMessage], bool]:
    """A page of the outbox, newest first, and whether an older page exists (dev mailbox)."""
    rows = list(
        db.scalars(
            sa.select(EmailMessage)
            .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
            .offset((page - 1) * per_page).limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page
