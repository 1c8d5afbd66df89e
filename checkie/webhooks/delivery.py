"""Sending deliveries (SPEC §7, §8) in batches, in three steps so no transaction stays open
while the merchants' servers answer:

1. `claim_batch` — one short transaction: up to BATCH_SIZE deliveries that are pending, due and
   not leased (or whose lease expired) are locked with SKIP LOCKED and leased in one UPDATE; their
   events and endpoints are read once and the signed requests built (each secret decrypted once).
2. the POSTs (webhooks.client), outside any transaction.
3. `record_outcomes` — one new transaction: every attempt's log row in one INSERT, the successes
   settled with one UPDATE per endpoint, each failure by the per-delivery rules (back-off,
   Retry-After, 410, the endpoint's run of failures, which may disable it).

Batches exist for throughput: per delivery, the statements, commits and ORM work cost several
times the POST itself (bench/README.md). A consumer that dies between 1 and 3 leaves leases that
expire; the sweeper then sends those deliveries again (at least once, never lost). Every step is a
no-op for a settled delivery.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.database import utcnow
from checkie.notifications.services import queue_email
from checkie.stores.models import Store
from checkie.webhooks import signing
from checkie.webhooks.client import DEFAULT_TIMEOUT_SECONDS, HttpOutcome
from checkie.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger("checkie.webhooks")

#: How long a claim holds: well past the time a whole batch's POSTs can take (see POST_THREADS),
#: short enough that a dead worker's deliveries are sent again within minutes.
LEASE = timedelta(seconds=60)
#: Deliveries claimed, posted and recorded together by one task.
BATCH_SIZE = 32
#: A batch's POSTs run this many at a time, so even a batch of endpoints that all time out is
#: done within BATCH_SIZE / POST_THREADS × the client's timeout (40 s), inside its lease.
POST_THREADS = 8
assert LEASE.total_seconds() > BATCH_SIZE / POST_THREADS * DEFAULT_TIMEOUT_SECONDS
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
_DISABLED_ENDPOINT_ERROR = "The endpoint is disabled."


@dataclass(frozen=True)
class SignedRequest:
    """What to POST for a claimed delivery, and the lease it was claimed under."""

    delivery_id: int
    endpoint_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    claimed_until: datetime


def claim_batch(db: Session, delivery_id: int, *, encryption_key: str, limit: int = BATCH_SIZE) -> list[SignedRequest]:
    """Lease `delivery_id` (when it is claimable) and other claimable deliveries of endpoints
    that are not failing, oldest due first, up to `limit`, and build their signed requests;
    empty when there is nothing to send (settled, not due, leased by another worker, or gone).
    The deliveries of a disabled endpoint are failed here without a request."""
    now = utcnow()
    until = now + LEASE
    others = _claimable_of_healthy_endpoints(now).where(WebhookDelivery.id != delivery_id).limit(limit - 1)
    leased = _lease(db, [_claimable(now).where(WebhookDelivery.id == delivery_id), others], until)
    if not leased:
        return []
    rows = db.execute(
        sa.select(WebhookDelivery.id.label("delivery_id"), WebhookDelivery.endpoint_id, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(leased)).order_by(WebhookDelivery.id)
    ).all()
    endpoints = {e.id: e for e in db.scalars(sa.select(WebhookEndpoint).where(
        WebhookEndpoint.id.in_({row.endpoint_id for row in rows})))}
    _fail_disabled(db, [row.delivery_id for row in rows if not endpoints[row.endpoint_id].enabled], now)
    secrets = {e.id: e.signing_secrets(encryption_key, now=now) for e in endpoints.values() if e.enabled}
    return [
        _signed(row.delivery_id, endpoints[row.endpoint_id], row.WebhookEvent, secrets[row.endpoint_id], now, until)
        for row in rows if row.endpoint_id in secrets
    ]


def event_body(delivery: WebhookDelivery) -> bytes:
    """The body of a delivery's every attempt (see `body_of`)."""
    return body_of(delivery.event)


def body_of(event: WebhookEvent) -> bytes:
    """`{"id","type","createdAt","storeId","data"}`: the same bytes for every attempt."""
    document = {"id": event.id, "type": event.type, "createdAt": event.created_at.isoformat(),
                "storeId": event.store_id, "data": event.data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def record_outcomes(
    db: Session, sent: list[tuple[SignedRequest, HttpOutcome]], *, retry_base_seconds: float
) -> dict[int, float]:
    """Log every attempt and settle each delivery or make it due again; returns, per delivery
    due again, in how many seconds (for the retry task). An outcome arriving after another
    worker took its delivery over (this lease expired) is logged and changes nothing else.

    Rows are locked in one order (the deliveries by id, then the endpoints by id), so two
    workers recording at once cannot deadlock. Of one endpoint's outcomes the successes count
    before the failures: a batch's POSTs run together, and a failure counted last keeps the
    endpoint's run of failures from being reset by an answer that may have come first."""
    now = utcnow()
    present = _lock_deliveries(db, [request.delivery_id for request, _ in sent])
    sent = [(request, outcome) for request, outcome in sent if request.delivery_id in present]
    _log_attempts(db, sent, now)
    retries: dict[int, float] = {}
    for endpoint_id, outcomes in sorted(_by_endpoint(sent).items()):
        _settle_successes(db, endpoint_id, [pair for pair in outcomes if pair[1].succeeded], now)
        for request, outcome in outcomes:
            if not outcome.succeeded:
                retry_in = _record_failure(db, request, outcome, now, retry_base_seconds)
                if retry_in is not None:
                    retries[request.delivery_id] = retry_in
    db.flush()
    return retries


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


def _record_failure(db: Session, request: SignedRequest, outcome: HttpOutcome, now: datetime, base: float) -> float | None:
    """A failed attempt by the rules of one delivery: in how many seconds it is due again, or
    None when it is settled (410, no attempts left, the endpoint disabled) or no longer ours."""
    delivery = db.scalar(
        sa.select(WebhookDelivery).where(WebhookDelivery.id == request.delivery_id)
        .execution_options(populate_existing=True)
    )
    if delivery is None or delivery.status != DeliveryStatus.PENDING or delivery.claimed_until != request.claimed_until:
        return None
    delivery.attempts += 1
    delivery.claimed_until = None
    delivery.last_status_code = outcome.status_code
    delivery.last_error = _error_of(outcome)
    code = outcome.status_code
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


def _settle_successes(db: Session, endpoint_id: int, succeeded: list[tuple[SignedRequest, HttpOutcome]], now: datetime) -> None:
    """The 2xx answers of one endpoint settled with one UPDATE per status code and lease (a
    batch has one lease, usually one code); a delivery whose lease another worker took over
    is left alone. Any settled ends the endpoint's run of failures."""
    groups: dict[tuple[int | None, datetime], list[int]] = defaultdict(list)
    for request, outcome in succeeded:
        groups[(outcome.status_code, request.claimed_until)].append(request.delivery_id)
    settled = 0
    for (code, lease), ids in groups.items():
        settled += len(db.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.status == DeliveryStatus.PENDING,
                   WebhookDelivery.claimed_until == lease)
            .values(status=DeliveryStatus.SUCCEEDED, attempts=WebhookDelivery.attempts + 1, claimed_until=None,
                    completed_at=now, last_status_code=code, last_error=None)
            .returning(WebhookDelivery.id).execution_options(synchronize_session=False)
        ).all())
    if settled:
        _end_failure_run(db, endpoint_id)


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


def _lease(db: Session, choices: list[sa.Select], until: datetime) -> list[int]:
    """Lease, in one statement, the deliveries any of `choices` selects, skipping rows another
    worker has locked (on SQLite, which has no row locks, its single writer serialises claims)."""
    chosen = [WebhookDelivery.id.in_(choice.with_for_update(of=WebhookDelivery, skip_locked=True)) for choice in choices]
    return list(db.scalars(
        sa.update(WebhookDelivery)
        .where(sa.or_(*chosen))
        .values(claimed_until=until)
        .returning(WebhookDelivery.id).execution_options(synchronize_session=False)
    ))


def _claimable(now: datetime) -> sa.Select:
    return sa.select(WebhookDelivery.id).where(
        WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now, _lease_free(now))


def _claimable_of_healthy_endpoints(now: datetime) -> sa.Select:
    """Claimable deliveries, oldest due first, of endpoints with no run of failures: a failing
    endpoint gets its deliveries one task at a time, so the attempt that disables it is the
    last one it is sent, as when every delivery had a task of its own."""
    return (
        _claimable(now)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.consecutive_failures == 0)
        .order_by(WebhookDelivery.next_attempt_at)
    )


def _fail_disabled(db: Session, delivery_ids: list[int], now: datetime) -> None:
    if delivery_ids:
        db.execute(
            sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
            .values(status=DeliveryStatus.FAILED, completed_at=now, claimed_until=None, last_error=_DISABLED_ENDPOINT_ERROR)
            .execution_options(synchronize_session=False)
        )


def _signed(
    delivery_id: int, endpoint: WebhookEndpoint, event: WebhookEvent, secrets: list[str], now: datetime, until: datetime
) -> SignedRequest:
    """Both signature schemes with a fresh timestamp, by the current secret and, during a
    rotation, the previous one."""
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Checkie-Webhooks/1",
        **signing.signature_headers(event.id, body, secrets, timestamp=int(now.timestamp())),
    }
    return SignedRequest(delivery_id=delivery_id, endpoint_id=endpoint.id, url=endpoint.url, body=body,
                         headers=headers, claimed_until=until)


def _lock_deliveries(db: Session, delivery_ids: list[int]) -> set[int]:
    """Lock the deliveries to record, in id order; the ones still there (an endpoint deleted
    meanwhile takes its deliveries with it, and an attempt needs its delivery)."""
    return set(db.scalars(
        sa.select(WebhookDelivery.id).where(WebhookDelivery.id.in_(delivery_ids))
        .order_by(WebhookDelivery.id).with_for_update()
    ))


def _log_attempts(db: Session, sent: list[tuple[SignedRequest, HttpOutcome]], now: datetime) -> None:
    if sent:
        db.execute(sa.insert(WebhookAttempt), [
            {"delivery_id": request.delivery_id, "at": now, "status_code": outcome.status_code,
             "duration_ms": outcome.duration_ms, "response_excerpt": outcome.response_excerpt[:EXCERPT_LIMIT],
             "error": _error_of(outcome)}
            for request, outcome in sent
        ])


def _by_endpoint(sent: list[tuple[SignedRequest, HttpOutcome]]) -> dict[int, list[tuple[SignedRequest, HttpOutcome]]]:
    grouped: dict[int, list[tuple[SignedRequest, HttpOutcome]]] = defaultdict(list)
    for request, outcome in sent:
        grouped[request.endpoint_id].append((request, outcome))
    return grouped


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now)


def _error_of(outcome: HttpOutcome) -> str | None:
    if outcome.error:
        return outcome.error[:2000]
    if outcome.status_code is not None and not 200 <= outcome.status_code < 300:
        return f"HTTP {outcome.status_code}"
    return None
