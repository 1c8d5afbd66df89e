"""Email tasks: send one message, and sweep the outbox for due messages a lost task left behind."""
from __future__ import annotations

from flask import current_app
from huey import crontab

from checkie.extensions import db
from checkie.notifications import sending
from checkie.tasks import periodic_task, task


@task()
def send_email(message_id: int) -> None:
    message = sending.claim_due_email(db.session, message_id)
    if message is None:
        return
    sending.deliver(db.session, message, smtp_url=current_app.config["SMTP_URL"], mail_from=current_app.config["MAIL_FROM"])
    db.session.commit()


@periodic_task(crontab(minute="*"))
def sweep_email_outbox() -> None:
    """Huey drops a task whose consumer dies mid-run; the row is the truth, so re-enqueue it."""
    for message_id in sending.due_email_ids(db.session):
        send_email(message_id)
