"""Email tasks: send one message, and sweep the outbox for due messages a lost task left behind."""
from __future__ import annotations

from flask import current_app
from huey import crontab

from checkie.extensions import db
from checkie.notifications import sending
from checkie.tasks import periodic_task, task


@task()
def send_email(message_id: int) -> None:
    """One message (the sweeper re-enqueues them one by one)."""
    _send([message_id])


@task()
def send_emails(message_ids: list[int]) -> None:
    """The messages one transaction queued (notifications.services.queue_email): one task, one
    claim and one commit for all of them."""
    _send(message_ids)


def _send(message_ids: list[int]) -> None:
    messages = sending.claim_due_emails(db.session, message_ids)
    for message in messages:
        sending.deliver(db.session, message, smtp_url=current_app.config["SMTP_URL"], mail_from=current_app.config["MAIL_FROM"])
    if messages:
        db.session.commit()


@periodic_task(crontab(minute="*"))
def sweep_email_outbox() -> None:
    """Huey drops a task whose consumer dies mid-run; the row is the truth, so re-enqueue it."""
    for message_id in sending.due_email_ids(db.session):
        send_email(message_id)
