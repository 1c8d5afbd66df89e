"""Webhook tasks: send one delivery, and sweep for due deliveries a lost task left behind."""
from __future__ import annotations

from flask import current_app
from huey import crontab

from checkie.extensions import db
from checkie.tasks import periodic_task, task
from checkie.webhooks import client, delivery


@task()
def deliver_webhook(delivery_id: int) -> None:
    """Claim (commit), POST outside any transaction, record (commit), and schedule the retry.
    Run twice, or for a settled delivery, it does nothing: the claim finds nothing to send."""
    config = current_app.config
    request = delivery.claim(db.session, delivery_id, encryption_key=config["ENCRYPTION_KEY"])
    db.session.commit()
    if request is None:
        return
    outcome = client.post(request.url, request.body, request.headers, allow_private=config["WEBHOOK_ALLOW_PRIVATE_URLS"])
    retry_in = delivery.record_outcome(db.session, request, outcome, retry_base_seconds=config["WEBHOOK_RETRY_BASE_SECONDS"])
    db.session.commit()
    if retry_in is not None:
        deliver_webhook.schedule((delivery_id,), delay=retry_in)


@periodic_task(crontab(minute="*"))
def sweep_webhook_deliveries() -> int:
    """Huey drops a task whose consumer dies, and Redis may lose its queue: the rows are the
    truth, so every pending, due and unleased delivery is enqueued again. A delivery enqueued
    twice is sent once (the claim), and the sweep runs again a minute later for the rest."""
    due = delivery.due_delivery_ids(db.session)
    db.session.commit()
    for delivery_id in due:
        deliver_webhook(delivery_id)
    return len(due)
