"""Queue emails as outbox rows; a task sends them after the transaction commits."""
from __future__ import annotations

from flask import current_app
from jinja2 import TemplateNotFound
from sqlalchemy.orm import Session

from checkie.notifications.models import EmailMessage
from checkie.tasks import enqueue_after_commit


def _render(template: str, extension: str, context: dict) -> str | None:
    try:
        tpl = current_app.jinja_env.get_template(f"emails/{template}.{extension}")
    except TemplateNotFound:
        return None
    return tpl.render(app_url=current_app.config["APP_URL"], **context)


def queue_email(db: Session, *, to: str, template: str, subject: str, **context) -> EmailMessage:
    """Write an email to the outbox, rendered from `templates/emails/<template>.txt` (and `.html`
    when it exists). It is sent by a task once the caller's transaction commits."""
    from checkie.notifications.tasks import send_email

    text_body = _render(template, "txt", context)
    if text_body is None:
        raise LookupError(f"no email template emails/{template}.txt")
    message = EmailMessage(
        kind=template,
        to_address=to,
        subject=subject,
        text_body=text_body,
        html_body=_render(template, "html", context),
    )
    db.add(message)
    db.flush()
    enqueue_after_commit(send_email, message.id)
    return message
