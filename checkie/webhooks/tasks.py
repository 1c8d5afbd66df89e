"""Webhook tasks: send deliveries in batches, and sweep for due deliveries a lost task left behind."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from huey import crontab

from checkie.extensions import db
from checkie.tasks import periodic_task, task
from checkie.webhooks import client, delivery
from checkie.webhooks.client import HttpOutcome
from checkie.webhooks.delivery import SignedRequest


@task()
def deliver_webhook(delivery_id: int) -> None:
    """Send this delivery and, in the same batch, other due ones: claim (commit), POST outside
    any transaction, record (commit), and schedule the retries. Taking others along is what
    makes a backlog drain fast; the tasks queued for those then find nothing to send, as does
    this one run twice or for a settled delivery."""
    config = current_app.config
    requests = delivery.claim_batch(db.session, delivery_id, encryption_key=config["ENCRYPTION_KEY"])
    db.session.commit()
    if not requests:
        return
    sent = post_all(requests, allow_private=config["WEBHOOK_ALLOW_PRIVATE_URLS"])
    retries = delivery.record_outcomes(db.session, sent, retry_base_seconds=config["WEBHOOK_RETRY_BASE_SECONDS"])
    db.session.commit()
    for retried_id, retry_in in retries.items():
        deliver_webhook.schedule((retried_id,), delay=retry_in)


def post_all(requests: list[SignedRequest], *, allow_private: bool) -> list[tuple[SignedRequest, HttpOutcome]]:
    """Each request's outcome, up to POST_THREADS at a time, so a slow endpoint in the batch
    delays the others by at most its timeout (one request is posted on this thread)."""
    def send(request: SignedRequest) -> tuple[SignedRequest, HttpOutcome]:
        return request, client.post(request.url, request.body, request.headers, allow_private=allow_private)

    if len(requests) == 1:
        return [send(requests[0])]
    with ThreadPoolExecutor(max_workers=min(delivery.POST_THREADS, len(requests))) as pool:
        return list(pool.map(send, requests))


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
