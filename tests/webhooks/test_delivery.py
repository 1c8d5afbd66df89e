"""The delivery engine (SPEC §7, §8) against a receiver on 127.0.0.1: signed twice (checked with
`stripe` and `standardwebhooks`), retried after 1, 2, 4, 8, 16 minutes with a fresh timestamp
and signature each time, then failed; 410 and 24 hours of failures disable the endpoint;
redirects are not followed; Retry-After is honoured up to a cap; a settled or leased delivery
is not sent again; resend, replay and the test event. Time is the `clock` fixture's."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
import stripe
from standardwebhooks import Webhook

from checkie.extensions import huey
from checkie.webhooks import services
from checkie.webhooks.delivery import claim_batch
from checkie.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from checkie.webhooks.tasks import deliver_webhook, sweep_webhook_deliveries
from tests.emails import emails_to
from tests.webhooks.receiver import Answer, Received

MINUTE = 60


def endpoint_for(db, store, receiver, events=("customer.created",)) -> tuple[WebhookEndpoint, str]:
    endpoint, secret = services.create_endpoint(db, store, url=receiver.url, events=list(events), description="Shop")
    db.commit()
    return endpoint, secret


def emit(db, store, n: int = 1) -> WebhookDelivery:
    """Record an event (its first attempt runs as the transaction commits) and return its delivery."""
    event = services.record_event(db, store.id, "customer.created", {"id": n, "email": f"c{n}@example.com"})
    db.commit()
    return db.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()


def reloaded(db, delivery: WebhookDelivery) -> WebhookDelivery:
    db.expire_all()
    return db.get_one(WebhookDelivery, delivery.id)


def endpoint_now(db, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    db.expire_all()
    return db.get_one(WebhookEndpoint, endpoint.id)


def attempts_of(db, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return services.delivery_attempts(db, reloaded(db, delivery))


def verify_both(request: Received, secret: str, *, tolerance: int | None = None) -> dict:
    """The body, after both schemes' checks pass with `secret`; raises if either fails."""
    stripe.WebhookSignature.verify_header(request.body.decode(), request.headers["x-webhook-signature"], secret, tolerance)
    return Webhook(secret).verify(request.body, request.headers)


def test_two_failures_then_success_three_attempts_one_event_fresh_signatures(db, store, receiver, clock):
    endpoint, secret = endpoint_for(db, store, receiver)
    receiver.answer(Answer(500, body=b"boom"), Answer(502))

    delivery = emit(db, store)
    clock.advance(minutes=1)
    deliver_webhook(delivery.id)
    clock.advance(minutes=2)
    deliver_webhook(delivery.id)

    first, second, third = receiver.received
    bodies = [verify_both(request, secret, tolerance=300) for request in receiver.received]
    assert bodies[0] == bodies[1] == bodies[2]
    assert set(bodies[0]) == {"id", "type", "createdAt", "storeId", "data"}
    assert (bodies[0]["type"], bodies[0]["storeId"], bodies[0]["data"]["id"]) == ("customer.created", store.id, 1)
    assert {r.headers["webhook-id"] for r in receiver.received} == {r.headers["x-webhook-id"] for r in receiver.received} == {
        delivery.event_id}
    assert len({r.headers["webhook-timestamp"] for r in receiver.received}) == 3
    assert len({r.headers["webhook-signature"] for r in receiver.received}) == 3
    assert len({r.headers["x-webhook-signature"] for r in receiver.received}) == 3
    assert first.body == second.body == third.body
    settled = reloaded(db, delivery)
    assert (settled.status, settled.attempts, settled.last_status_code, settled.last_error) == (
        DeliveryStatus.SUCCEEDED, 3, 200, None)
    assert settled.completed_at is not None and settled.claimed_until is None
    log = attempts_of(db, delivery)
    assert [(a.status_code, a.error, a.response_excerpt) for a in log] == [
        (500, "HTTP 500", "boom"), (502, "HTTP 502", "ok"), (200, None, "ok")]
    assert all(a.duration_ms >= 0 for a in log)
    assert endpoint_now(db, endpoint).consecutive_failures == 0


def test_retries_after_1_2_4_8_16_minutes_then_failed(db, store, receiver, clock):
    endpoint_for(db, store, receiver)
    receiver.answer(*[Answer(500)] * 6)

    delivery = emit(db, store)
    for minutes in (1, 2, 4, 8, 16):
        due = reloaded(db, delivery).next_attempt_at
        assert due - attempts_of(db, delivery)[-1].at == timedelta(minutes=minutes)
        clock.advance(minutes=minutes - 0.1)
        deliver_webhook(delivery.id)  # not due yet: nothing happens
        clock.advance(minutes=0.1)
        deliver_webhook(delivery.id)

    failed = reloaded(db, delivery)
    assert (failed.status, failed.attempts, failed.last_status_code) == (DeliveryStatus.FAILED, 6, 500)
    assert len(receiver.received) == 6 and len(attempts_of(db, delivery)) == 6
    clock.advance(hours=2)
    assert sweep_webhook_deliveries.call_local() == 0
    assert len(receiver.received) == 6


def test_the_retry_is_scheduled_on_the_queue_with_its_delay(db, store, receiver, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_BASE_SECONDS", 0.25)
    endpoint_for(db, store, receiver)
    receiver.answer(Answer(500))
    before = len(huey.scheduled())

    delivery = emit(db, store)

    (retry,) = huey.scheduled()[before:]
    assert (type(retry), retry.args) == (deliver_webhook.task_class, (delivery.id,))
    due = reloaded(db, delivery).next_attempt_at
    assert due - attempts_of(db, delivery)[0].at == timedelta(seconds=0.25)


@pytest.mark.parametrize(("answer", "wait"), [
    (Answer(503, {"Retry-After": "600"}), 600),
    (Answer(429, {"Retry-After": "30"}), MINUTE),  # shorter than the back-off: the back-off
    (Answer(429, {"Retry-After": "86400"}), 3600),  # capped at an hour
    (Answer(500, {"Retry-After": "600"}), MINUTE),  # only 429 and 503 ask for it
])
def test_retry_after_is_honoured_up_to_a_cap(db, store, receiver, clock, answer, wait):
    endpoint_for(db, store, receiver)
    receiver.answer(answer)

    delivery = emit(db, store)

    assert reloaded(db, delivery).next_attempt_at - attempts_of(db, delivery)[0].at == timedelta(seconds=wait)


def test_410_disables_the_endpoint_at_once_and_ends_its_deliveries(db, store, user, receiver, clock):
    endpoint, _ = endpoint_for(db, store, receiver)
    receiver.answer(Answer(500))
    waiting = emit(db, store, 1)
    receiver.answer(Answer(410))

    gone = emit(db, store, 2)
    clock.advance(minutes=5)
    deliver_webhook(waiting.id)

    endpoint = endpoint_now(db, endpoint)
    assert not endpoint.enabled and endpoint.disabled_reason == "The endpoint answered 410 Gone."
    assert (reloaded(db, gone).status, reloaded(db, gone).attempts) == (DeliveryStatus.FAILED, 1)
    assert (reloaded(db, waiting).status, reloaded(db, waiting).last_error) == (DeliveryStatus.FAILED, "The endpoint is disabled.")
    assert len(receiver.received) == 2  # the waiting one was not sent again
    assert services.record_event(db, store.id, "customer.created", {"id": 3}) is None
    assert emails_to(db, user.email, "webhook_endpoint_disabled") == []


def test_a_redirect_is_not_followed_and_counts_as_a_failure(db, store, receiver):
    endpoint_for(db, store, receiver)
    receiver.answer(Answer(302, {"Location": receiver.url + "/elsewhere"}), Answer(307, {"Location": "http://127.0.0.1:9/"}))

    delivery = emit(db, store)

    assert [request.path for request in receiver.received] == ["/hooks"]
    pending = reloaded(db, delivery)
    assert (pending.status, pending.last_status_code, pending.last_error) == (DeliveryStatus.PENDING, 302, "HTTP 302")


def test_24_hours_of_failures_disable_the_endpoint_and_email_the_owner_once(db, store, user, receiver, clock):
    endpoint, _ = endpoint_for(db, store, receiver)
    receiver.answer(*[Answer(500)] * 40)
    deliveries = [emit(db, store, n) for n in range(10)]
    clock.advance(hours=23, minutes=59)
    sweep_webhook_deliveries.call_local()  # ten more failures, but not yet 24 hours of them
    assert endpoint_now(db, endpoint).enabled

    clock.advance(minutes=2)
    sweep_webhook_deliveries.call_local()

    endpoint = endpoint_now(db, endpoint)
    assert not endpoint.enabled and "24 hours" in endpoint.disabled_reason
    assert len(receiver.received) == 21  # after the one that disabled it, nothing more was sent
    assert {reloaded(db, d).status for d in deliveries} == {DeliveryStatus.FAILED}
    (email,) = emails_to(db, user.email, "webhook_endpoint_disabled")
    assert receiver.url in email.text_body and f"/dashboard/stores/{store.id}/webhooks" in email.text_body
    clock.advance(hours=1)
    sweep_webhook_deliveries.call_local()
    assert len(emails_to(db, user.email, "webhook_endpoint_disabled")) == 1


def test_a_success_ends_the_run_of_failures(db, store, receiver, clock):
    endpoint, _ = endpoint_for(db, store, receiver)
    receiver.answer(*[Answer(500)] * 12)
    for n in range(12):
        emit(db, store, n)
    assert endpoint_now(db, endpoint).consecutive_failures == 12

    emit(db, store, 99)  # 200
    clock.advance(hours=25)
    receiver.answer(Answer(500))
    emit(db, store, 100)

    endpoint = endpoint_now(db, endpoint)
    assert endpoint.enabled and endpoint.consecutive_failures == 1


def test_during_a_rotation_both_secrets_verify_every_delivery(db, store, receiver):
    endpoint, old = endpoint_for(db, store, receiver)
    new = services.rotate_secret(db, endpoint)
    db.commit()

    emit(db, store)

    (request,) = receiver.received
    assert verify_both(request, old, tolerance=300) == verify_both(request, new, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(request.body.decode(), request.headers["x-webhook-signature"], "whsec_other")


def test_a_settled_delivery_is_not_sent_again(db, store, receiver):
    endpoint_for(db, store, receiver)
    delivery = emit(db, store)

    deliver_webhook(delivery.id)
    sweep_webhook_deliveries.call_local()

    assert len(receiver.received) == 1 and reloaded(db, delivery).attempts == 1


def test_a_leased_delivery_is_not_sent_twice_and_a_dead_workers_lease_expires(db, store, receiver, clock, app):
    endpoint_for(db, store, receiver)
    receiver.answer(Answer(500))
    delivery = emit(db, store)
    clock.advance(minutes=1)
    assert claim_batch(db, delivery.id, encryption_key=app.config["ENCRYPTION_KEY"])  # a worker that then dies
    db.commit()

    deliver_webhook(delivery.id)
    assert sweep_webhook_deliveries.call_local() == 0
    assert len(receiver.received) == 1

    clock.advance(minutes=1, seconds=1)
    assert sweep_webhook_deliveries.call_local() == 1
    assert len(receiver.received) == 2 and reloaded(db, delivery).status is DeliveryStatus.SUCCEEDED


def test_resend_sends_the_same_event_again_and_keeps_the_log(db, store, receiver):
    endpoint, secret = endpoint_for(db, store, receiver)
    delivery = emit(db, store)

    services.resend_delivery(db, reloaded(db, delivery))
    db.commit()

    first, again = receiver.received
    assert verify_both(first, secret, tolerance=300) == verify_both(again, secret, tolerance=300)
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.event_id
    assert reloaded(db, delivery).status is DeliveryStatus.SUCCEEDED
    assert len(attempts_of(db, delivery)) == 2


def test_replay_sends_again_the_failed_deliveries_since_a_time(db, store, receiver, clock):
    endpoint, _ = endpoint_for(db, store, receiver)
    receiver.answer(*[Answer(410)])
    old = emit(db, store, 1)
    services.update_endpoint(db, endpoint_now(db, endpoint), enabled=True)
    db.commit()
    since = reloaded(db, old).created_at + timedelta(microseconds=1)
    receiver.answer(*[Answer(500)] * 6)
    recent = emit(db, store, 2)
    for minutes in (1, 2, 4, 8, 16):
        clock.advance(minutes=minutes)
        deliver_webhook(recent.id)
    fine = emit(db, store, 3)
    assert reloaded(db, recent).status is DeliveryStatus.FAILED
    sent = len(receiver.received)

    replayed = services.replay_failed(db, endpoint_now(db, endpoint), since)
    db.commit()

    assert replayed == 1
    assert [json.loads(r.body)["data"]["id"] for r in receiver.received[sent:]] == [2]
    assert reloaded(db, recent).status is DeliveryStatus.SUCCEEDED
    assert (reloaded(db, old).status, reloaded(db, fine).status) == (DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED)


def test_the_test_event_pings_that_endpoint_only(db, store, receiver):
    endpoint, secret = endpoint_for(db, store, receiver, events=["payment.completed"])
    endpoint_for(db, store, receiver, events=["payment.completed"])

    delivery = services.send_test_event(db, endpoint)
    db.commit()

    (request,) = receiver.received
    body = verify_both(request, secret, tolerance=300)
    assert (body["type"], body["data"]["endpointId"]) == ("ping", endpoint.id)
    assert (delivery.endpoint_id, reloaded(db, delivery).status) == (endpoint.id, DeliveryStatus.SUCCEEDED)


def test_a_delivery_whose_endpoint_was_disabled_fails_without_a_request(db, store, receiver, clock):
    endpoint, _ = endpoint_for(db, store, receiver)
    receiver.answer(Answer(500))
    delivery = emit(db, store)
    services.update_endpoint(db, endpoint_now(db, endpoint), enabled=False)
    db.commit()

    clock.advance(minutes=1)
    deliver_webhook(delivery.id)

    assert len(receiver.received) == 1
    assert (reloaded(db, delivery).status, reloaded(db, delivery).attempts) == (DeliveryStatus.FAILED, 1)


def test_the_test_button_resend_and_replay_go_through_the_ssrf_guard(db, app, store, receiver, clock, monkeypatch):
    """An endpoint saved while private addresses were allowed (its URL is the loopback receiver):
    with them refused, the test event, a resend and a replay each log a refused attempt and
    never reach the receiver."""
    endpoint, _ = endpoint_for(db, store, receiver)
    receiver.answer(Answer(500))
    failed = emit(db, store)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    reached = len(receiver.received)

    ping = services.send_test_event(db, endpoint_now(db, endpoint))
    db.commit()
    services.resend_delivery(db, reloaded(db, failed))
    db.commit()
    clock.advance(hours=1)
    deliver_webhook(failed.id)
    services.replay_failed(db, endpoint_now(db, endpoint), since=clock.now() - timedelta(days=1))
    db.commit()
    deliver_webhook(failed.id)

    assert len(receiver.received) == reached == 1  # only the first delivery, while private addresses were allowed
    refused = [attempt for d in (ping, failed) for attempt in attempts_of(db, d) if attempt.status_code is None]
    assert len(refused) >= 3, refused
    assert all("127.0.0.1" in (attempt.error or "") for attempt in refused), [a.error for a in refused]
