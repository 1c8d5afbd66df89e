"""Deliveries claimed, posted and recorded in batches (SPEC §7, §8; issue 11, Performance): a
batch never takes a delivery another worker holds, whether that worker has committed its claim
or is still claiming; two real consumers draining one backlog send each event once; a batch of
mixed answers records each by its own rules; an answer arriving after its lease was taken over
is only logged."""
from __future__ import annotations

import signal
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.webhooks import services
from checkie.webhooks.client import HttpOutcome
from checkie.webhooks.delivery import LEASE, claim_batch, record_outcomes
from checkie.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.consumers import start_consumer
from tests.webhooks.backlog import CONSUMER_ENV, all_succeeded, pending_events, statuses, stop, wait_until

MINUTE = 60


def queued_deliveries(db, store, receiver, count: int) -> list[int]:
    """`count` committed pending deliveries to one endpoint, oldest first (their tasks queued)."""
    pending_events(db, store, receiver, count)
    return list(db.scalars(sa.select(WebhookDelivery.id).order_by(WebhookDelivery.id)))


def answer(status: int | None, *, retry_after: float | None = None, error: str | None = None) -> HttpOutcome:
    return HttpOutcome(status_code=status, duration_ms=3, response_excerpt="ok" if status else "", error=error,
                       retry_after=retry_after)


def test_a_batch_skips_deliveries_another_worker_is_claiming_or_has_leased(db, store, receiver, huey_on_redis, app):
    ids = queued_deliveries(db, store, receiver, 10)
    key = app.config["ENCRYPTION_KEY"]

    with Session(db.get_bind()) as first, Session(db.get_bind()) as second:
        mine = claim_batch(first, ids[0], encryption_key=key, limit=4)  # locked, not yet committed
        theirs = claim_batch(second, ids[0], encryption_key=key, limit=100)
        second.commit()
        first.commit()

    mine_ids, their_ids = {r.delivery_id for r in mine}, {r.delivery_id for r in theirs}
    assert ids[0] in mine_ids and len(mine_ids) == 4
    assert mine_ids.isdisjoint(their_ids) and mine_ids | their_ids == set(ids)
    with Session(db.get_bind()) as third:
        assert claim_batch(third, ids[0], encryption_key=key) == []  # every lease holds


def test_two_consumers_draining_one_backlog_send_every_event_once(db, store, receiver, huey_on_redis):
    event_ids = pending_events(db, store, receiver, 200)

    consumers = [start_consumer(workers=4, **CONSUMER_ENV) for _ in range(2)]
    try:
        wait_until(lambda: all_succeeded(db, 200) or any(c.poll() is not None for c in consumers), seconds=30)
    finally:
        output = "".join(stop(consumer, signal.SIGINT) for consumer in consumers)

    assert all_succeeded(db, 200), (statuses(db), output[-3000:])
    assert sorted(receiver.event_ids()) == sorted(event_ids)  # each once: no delivery sent twice
    assert db.execute(sa.select(WebhookAttempt.status_code, WebhookAttempt.error)).all() == [(200, None)] * 200


def test_a_batch_of_mixed_answers_records_each_by_its_rules(db, store, receiver, huey_on_redis, app, clock):
    healthy, _ = services.create_endpoint(db, store, url=receiver.url, events=["customer.created"])
    gone, _ = services.create_endpoint(db, store, url=receiver.url + "/gone", events=["payment.completed"])
    db.commit()
    for n in range(4):
        services.record_event(db, store.id, "customer.created", {"id": n})
    services.record_event(db, store.id, "payment.completed", {"id": 9})
    db.commit()
    ok, no_content, boom, busy, gone_one = db.scalars(sa.select(WebhookDelivery.id).order_by(WebhookDelivery.id))
    answers = {ok: answer(200), no_content: answer(204), boom: answer(500), busy: answer(503, retry_after=600),
               gone_one: answer(410)}

    batch = claim_batch(db, ok, encryption_key=app.config["ENCRYPTION_KEY"])
    db.commit()
    retries = record_outcomes(db, [(request, answers[request.delivery_id]) for request in batch], retry_base_seconds=MINUTE)
    db.commit()

    assert retries == {boom: MINUTE, busy: 600}
    db.expire_all()
    rows = {d.id: d for d in db.scalars(sa.select(WebhookDelivery))}
    assert {i: (rows[i].status, rows[i].attempts, rows[i].last_status_code, rows[i].last_error) for i in answers} == {
        ok: (DeliveryStatus.SUCCEEDED, 1, 200, None),
        no_content: (DeliveryStatus.SUCCEEDED, 1, 204, None),
        boom: (DeliveryStatus.PENDING, 1, 500, "HTTP 500"),
        busy: (DeliveryStatus.PENDING, 1, 503, "HTTP 503"),
        gone_one: (DeliveryStatus.FAILED, 1, 410, "HTTP 410"),
    }
    assert all(rows[i].claimed_until is None for i in answers)
    log = {a.delivery_id: a for a in db.scalars(sa.select(WebhookAttempt))}
    assert {i: log[i].status_code for i in log} == {i: outcome.status_code for i, outcome in answers.items()}
    assert rows[boom].next_attempt_at - log[boom].at == timedelta(minutes=1)
    assert rows[busy].next_attempt_at - log[busy].at == timedelta(seconds=600)
    assert db.get_one(WebhookEndpoint, healthy.id).consecutive_failures == 2
    assert not db.get_one(WebhookEndpoint, gone.id).enabled


def test_an_answer_after_the_lease_was_taken_over_is_logged_and_changes_nothing(db, store, receiver, huey_on_redis,
                                                                                   app, clock):
    (delivery_id,) = queued_deliveries(db, store, receiver, 1)
    key = app.config["ENCRYPTION_KEY"]
    (late,) = claim_batch(db, delivery_id, encryption_key=key)
    db.commit()
    clock.advance(seconds=LEASE.total_seconds() + 1)  # that worker is presumed dead
    (taken_over,) = claim_batch(db, delivery_id, encryption_key=key)
    db.commit()

    assert record_outcomes(db, [(late, answer(500))], retry_base_seconds=MINUTE) == {}
    db.commit()
    record_outcomes(db, [(taken_over, answer(200))], retry_base_seconds=MINUTE)
    db.commit()

    db.expire_all()
    settled = db.get_one(WebhookDelivery, delivery_id)
    assert (settled.status, settled.attempts, settled.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    codes = db.scalars(sa.select(WebhookAttempt.status_code).order_by(WebhookAttempt.id)).all()
    assert codes == [500, 200]
