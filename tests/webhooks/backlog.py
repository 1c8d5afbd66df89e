"""A backlog of pending webhook deliveries and the real Huey consumers that drain it, shared by
the loss and batch tests."""
from __future__ import annotations

import subprocess
import time

import sqlalchemy as sa

from checkie.webhooks import services
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery

#: The retries of a consumer in these tests come after fractions of a second.
CONSUMER_ENV = {"WEBHOOK_RETRY_BASE_SECONDS": "0.2"}


def wait_until(condition, *, seconds: float) -> bool:
    """Whether `condition` became true within `seconds` (polled, no fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def pending_events(db, store, receiver, count: int) -> list[str]:
    """`count` committed events for one endpoint; their delivery tasks go to the queue."""
    endpoint, _ = services.create_endpoint(db, store, url=receiver.url, events=["customer.created"])
    db.commit()
    ids = []
    for n in range(count):
        ids.append(services.record_event(db, store.id, "customer.created", {"id": n}).id)
        if n % 50 == 49:
            db.commit()
    db.commit()
    return ids


def statuses(db) -> dict[DeliveryStatus, int]:
    db.expire_all()
    rows = db.execute(sa.select(WebhookDelivery.status, sa.func.count()).group_by(WebhookDelivery.status))
    return dict(rows.all())


def all_succeeded(db, count: int) -> bool:
    return statuses(db) == {DeliveryStatus.SUCCEEDED: count}


def stop(consumer: subprocess.Popen, sig: int) -> str:
    consumer.send_signal(sig)
    output, _ = consumer.communicate(timeout=15)
    return output or ""
