"""Sending one delivery (SPEC §7, §8), in three steps so no transaction stays open while the
merchant's server answers:

1. `claim` — a short transaction: the delivery, if pending, due and not leased (or its lease
   expired), is locked with SKIP LOCKED and leased; the signed request is built from it.
2. the POST (webhooks.client), outside any transaction.
3. `record_outcome` — a new transaction: the attempt's log row, then succeeded, failed, or due
   again after the back-off; the endpoint's run of failures, which may disable it.

A consumer that dies between 1 and 3 leaves a lease that expires; the sweeper then sends the
delivery again (at least once, never lost). Every step is a no-op for a settled delivery.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.database import utcnow
from checkie.notifications.services import queue_email
from checkie.stores.models import Store
from checkie.webhooks import signing
from checkie.webhooks.client import HttpOutcome
from checkie.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("checkie.webhooks")

#: How long a claim holds: well past the client's 10 s timeout, short enough that a dead
#: worker's delivery is sent again within minutes.
LEASE = timedelta(seconds=60)
#: Six attempts in all: the first, then retries after 1, 2, 4, 8 and 16 back-off units.
MAX_ATTEMPTS = 6
#: A Retry-After longer than this is cut to it.
RETRY_AFTER_CAP = timedelta(hours=1)
#: An endpoint whose attempts have all failed this long, at least FAILURES_TO_DISABLE in a row,
#: is disabled.
FAILING_PERIOD_TO_DISABLE = timedelta(hours=24)
FAILURES_TO_DISABLE = 10
EXCERPT_LIMIT = 1024
_RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class SignedRequest:
    """What to POST for a claimed delivery, and the lease it was claimed under."""

    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    claimed_until: datetime


def claim(db: Session, delivery_id: int, *, encryption_key: str) -> SignedRequest | None:
    """Lease the delivery and build its signed request; None when there is nothing to send
    (settled, not due, leased by another worker, or gone). A disabled endpoint's delivery is
    failed here without a request."""
    now = utcnow()
    delivery = db.scalar(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at <= now, _lease_free(now))
        .with_for_update(skip_locked=True)
    )
    if delivery is None:
        return None
    if not delivery.endpoint.enabled:
        _settle(delivery, DeliveryStatus.FAILED, now)
        delivery.last_error = "The endpoint is disabled."
        return None
    delivery.claimed_until = now + LEASE
    return SignedRequest(
        delivery_id=delivery.id, url=delivery.endpoint.url, body=event_body(delivery),
        headers=_headers(delivery, encryption_key, now), claimed_until=delivery.claimed_until,
    )


def event_body(delivery: WebhookDelivery) -> bytes:
    """`{"id","type","createdAt","storeId","data"}`: the same bytes for every attempt."""
    event = delivery.event
    document = {"id": event.id, "type": event.type, "createdAt": event.created_at.isoformat(),
                "storeId": event.store_id, "data": event.data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def record_outcome(db: Session, request: SignedRequest, outcome: HttpOutcome, *, retry_base_seconds: float) -> float | None:
    """Log the attempt and settle the delivery or make it due again; returns in how many
    seconds it is due again (for the retry task), else None. An outcome arriving after another
    worker took the delivery over (this lease expired) is logged and changes nothing else."""
    now = utcnow()
    delivery = db.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.id == request.delivery_id).with_for_update())
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    db.add(WebhookAttempt(
        delivery_id=delivery.id, at=now, status_code=outcome.status_code, duration_ms=outcome.duration_ms,
        response_excerpt=outcome.response_excerpt[:EXCERPT_LIMIT], error=_error_of(outcome),
    ))
    if delivery.status != DeliveryStatus.PENDING or delivery.claimed_until != request.claimed_until:
        db.flush()
        return None
    delivery.attempts += 1
    delivery.claimed_until = None
    delivery.last_status_code = outcome.status_code
    delivery.last_error = _error_of(outcome)
    retry_in = _apply(db, delivery, outcome, now, retry_base_seconds)
    db.flush()
    return retry_in


def due_delivery_ids(db: Session, *, limit: int = 1000) -> list[int]:
    """Pending, due and unleased (or leased by a worker that is gone): what the sweeper
    re-enqueues, oldest due first."""
    now = utcnow()
    return list(db.scalars(
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now, _lease_free(now))
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    ))


def retry_delay(attempts: int, *, base_seconds: float, retry_after: float | None = None) -> float:
    """Seconds until the next try after the `attempts`-th failure: 1, 2, 4, 8, 16 units of
    `base_seconds` (60: minutes); a server's Retry-After is waited for when longer, up to a cap."""
    delay = base_seconds * 2 ** (attempts - 1)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, RETRY_AFTER_CAP.total_seconds())
    return delay


def _apply(db: Session, delivery: WebhookDelivery, outcome: HttpOutcome, now: datetime, base: float) -> float | None:
    code = outcome.status_code
    if code is not None and 200 <= code < 300:
        _settle(delivery, DeliveryStatus.SUCCEEDED, now)
        _end_failure_run(db, delivery.endpoint_id)
        return None
    if code == 410:
        _settle(delivery, DeliveryStatus.FAILED, now)
        _disable(db, delivery.endpoint_id, "The endpoint answered 410 Gone.", email=False)
        return None
    disabled = _count_failure(db, delivery.endpoint_id, now)
    if disabled or delivery.attempts >= MAX_ATTEMPTS:
        _settle(delivery, DeliveryStatus.FAILED, now)
        return None
    retry_after = outcome.retry_after if code in _RETRY_AFTER_STATUSES else None
    delay = retry_delay(delivery.attempts, base_seconds=base, retry_after=retry_after)
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    return delay


def _settle(delivery: WebhookDelivery, status: DeliveryStatus, now: datetime) -> None:
    delivery.status = status
    delivery.completed_at = now
    delivery.claimed_until = None


def _end_failure_run(db: Session, endpoint_id: int) -> None:
    """A success ends the endpoint's run of failures. Written only when there is one, so
    successful deliveries to one endpoint do not queue on its row."""
    db.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id,
               sa.or_(WebhookEndpoint.consecutive_failures > 0, WebhookEndpoint.failing_since.is_not(None)))
        .values(consecutive_failures=0, failing_since=None)
    )


def _count_failure(db: Session, endpoint_id: int, now: datetime) -> bool:
    """One more failure in a row, counted in one UPDATE (concurrent deliveries to the endpoint
    lose no count); an endpoint failing for 24 hours, 10 times or more, is disabled. True when
    the endpoint is disabled now."""
    run = db.execute(
        sa.update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1,
                failing_since=sa.func.coalesce(WebhookEndpoint.failing_since, now))
        .returning(WebhookEndpoint.consecutive_failures, WebhookEndpoint.failing_since, WebhookEndpoint.enabled)
    ).one_or_none()
    if run is None or not run.enabled:
        return True
    failures, since, _ = run
    if failures < FAILURES_TO_DISABLE or since is None or since > now - FAILING_PERIOD_TO_DISABLE:
        return False
    _disable(db, endpoint_id, f"Every delivery failed for 24 hours ({failures} attempts in a row).", email=True)
    return True


def _disable(db: Session, endpoint_id: int, reason: str, *, email: bool) -> None:
    """Disable an enabled endpoint. Only the transaction that flips it (a conditional UPDATE)
    emails the owner, so the email goes out once however many deliveries fail at once."""
    flipped = db.execute(
        sa.update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, disabled_at=utcnow())
        .returning(WebhookEndpoint.store_id, WebhookEndpoint.url)
        .execution_options(synchronize_session="fetch")
    ).one_or_none()
    if flipped is None:
        return
    log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
    if email:
        store = db.get_one(Store, flipped.store_id)
        queue_email(
            db, to=store.owner.email, template="webhook_endpoint_disabled",
            subject=f"{store.name}: a webhook endpoint was disabled",
            store_name=store.name, store_id=store.id, endpoint_id=endpoint_id, url=flipped.url, reason=reason,
        )


def _headers(delivery: WebhookDelivery, encryption_key: str, now: datetime) -> dict[str, str]:
    """Both signature schemes with a fresh timestamp, by the current secret and, during a
    rotation, the previous one."""
    secrets = delivery.endpoint.signing_secrets(encryption_key, now=now)
    body = event_body(delivery)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Checkie-Webhooks/1",
        **signing.signature_headers(delivery.event_id, body, secrets, timestamp=int(now.timestamp())),
    }


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now)


def _error_of(outcome: HttpOutcome) -> str | None:
    if outcome.error:
        return outcome.error[:2000]
    if outcome.status_code is not None and not 200 <= outcome.status_code < 300:
        return f"HTTP {outcome.status_code}"
    return None
