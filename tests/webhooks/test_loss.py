"""No committed webhook event is lost (SPEC §7, §8; issue 11, "Loss"), with a real Huey consumer on
Redis posting to a receiver on 127.0.0.1.

Killed consumer: 300 deliveries are queued; after the first 100 answers the receiver holds the
next posts, so batches are mid-post when the consumer gets SIGKILL (those tasks are gone from
Redis for good, their deliveries leased). A fresh consumer and the sweeper must deliver every
event. Flushed Redis: deliveries are queued and the queue is wiped; the sweeper alone must
deliver them (on a Redis database of this test's own: db 0 is shared by every test worker)."""
from __future__ import annotations

import signal
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from checkie.database import utcnow
from checkie.extensions import huey
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from checkie.webhooks.tasks import sweep_webhook_deliveries
from tests.consumers import start_consumer
from tests.webhooks.backlog import CONSUMER_ENV, all_succeeded, pending_events, statuses, stop, wait_until

WORKERS = 4
EVENTS = 300
#: Never db 0: the other test workers' queues and rate limits live there.
SPARE_REDIS_DB = 13


def test_killing_the_consumer_mid_run_loses_no_event(db, store, receiver, huey_on_redis):
    event_ids = pending_events(db, store, receiver, EVENTS)
    receiver.hold_after(100)

    first = start_consumer(workers=WORKERS, **CONSUMER_ENV)
    try:
        assert wait_until(lambda: receiver.held >= WORKERS or first.poll() is not None, seconds=20)
    finally:
        output = stop(first, signal.SIGKILL)
    assert receiver.held >= WORKERS, output[-3000:]
    receiver.release()  # the held posts are answered 503 to a sender that is gone
    left = statuses(db)
    assert left[DeliveryStatus.PENDING] >= EVENTS - 100, left
    # The dead consumer's leases expire LEASE (a minute) after their claim; rather than wait,
    # the test lets that minute pass for them.
    db.execute(sa.update(WebhookDelivery).where(WebhookDelivery.claimed_until.is_not(None))
               .values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.commit()

    second = start_consumer(workers=WORKERS, **CONSUMER_ENV)
    try:
        sweep_webhook_deliveries()  # as the consumer's scheduler does every minute
        wait_until(lambda: all_succeeded(db, EVENTS) or second.poll() is not None, seconds=30)
    finally:
        output = stop(second, signal.SIGINT)

    assert all_succeeded(db, EVENTS), (statuses(db), output[-3000:])
    assert set(receiver.event_ids()) == set(event_ids)
    assert db.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == EVENTS


@pytest.fixture
def spare_redis(huey_on_redis, app):
    """The shared Huey's queue on a Redis database of this test's own, which it may flush."""
    url = app.config["REDIS_URL"].rsplit("/", 1)[0] + f"/{SPARE_REDIS_DB}"
    spare = redis.Redis.from_url(url)
    spare.flushdb()
    shared = huey.storage
    huey.storage = huey.storage_class(huey.name, url=url)
    try:
        yield url, spare
    finally:
        huey.storage = shared
        spare.flushdb()
        spare.close()


def test_a_flushed_redis_loses_no_event_the_sweeper_delivers_them(db, store, receiver, spare_redis):
    url, spare = spare_redis
    event_ids = pending_events(db, store, receiver, 100)
    assert huey.pending_count() == 100
    spare.flushdb()  # Redis loses its data: every queued delivery task is gone
    assert huey.pending_count() == 0

    consumer = start_consumer(workers=WORKERS, REDIS_URL=url, **CONSUMER_ENV)
    try:
        sweep_webhook_deliveries()  # as the consumer's scheduler does every minute
        wait_until(lambda: all_succeeded(db, 100) or consumer.poll() is not None, seconds=30)
    finally:
        output = stop(consumer, signal.SIGINT)

    assert all_succeeded(db, 100), (statuses(db), output[-3000:])
    assert sorted(receiver.event_ids()) == sorted(event_ids)
