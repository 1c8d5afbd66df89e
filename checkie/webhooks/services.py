"""Webhook endpoints (create, edit, rotate, delete) and events: `record_event` writes an event
and one delivery per subscribed endpoint in the caller's transaction (an outbox, SPEC §7, §8).
Each function flushes, never commits; errors are keyed by the arguments' names."""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, scoped_session

from checkie.database import MAX_ID, utcnow
from checkie.errors import Conflict, NotFound, ValidationFailed
from checkie.security import encrypt_secret
from checkie.stores.models import Store
from checkie.tasks import enqueue_after_commit
from checkie.webhooks import addresses, models, signing, views
from checkie.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from checkie.webhooks.tasks import deliver_webhook

#: What a merchant may subscribe to (SPEC §7).
SUBSCRIBABLE_EVENTS = (
    "payment.completed", "payment.failed", "payment.refunded",
    "subscription.created", "subscription.renewed", "subscription.cancelled", "subscription.paused",
    "subscription.resumed", "customer.created", "checkout.session.expired", "payout.paid", "payout.failed",
)
#: The test event: sent to one endpoint on request, never subscribed to.
PING = "ping"
EVENT_TYPES = (*SUBSCRIBABLE_EVENTS, PING)

MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500


# ---------------------------------------------------------------- endpoints


def create_endpoint(
    db: Session, store: Store, *, url: str, events: Any, description: str | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (`whsec_…`), which is shown this once: only its
    encryption is kept. Every wrong field is reported at once; nothing is written then."""
    checked = _checked_fields(url=url, events=events, description="" if description is None else description)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(store_id=store.id, secret_encrypted=_encrypt(secret), enabled=True, **checked)
    db.add(endpoint)
    db.flush()
    return endpoint, secret


def update_endpoint(
    db: Session, endpoint: WebhookEndpoint, *, url: str | None = None, events: Any = None,
    description: str | None = None, enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (None leaves a field as it is). Enabling clears the reason it was
    disabled and its run of failures, so it gets a fresh 24 hours."""
    given = {name: value for name, value in (("url", url), ("events", events), ("description", description)) if value is not None}
    for name, value in _checked_fields(**given).items():
        setattr(endpoint, name, value)
    if enabled is True and not endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
    elif enabled is False and endpoint.enabled:
        endpoint.disable(reason=None)
    db.flush()
    return endpoint


def delete_endpoint(db: Session, endpoint: WebhookEndpoint) -> None:
    """Gone with its deliveries and their log; a task sending one of them records nothing."""
    db.delete(endpoint)
    db.flush()


def rotate_secret(db: Session, endpoint: WebhookEndpoint) -> str:
    """A new secret, returned once; the current one becomes the previous one and keeps signing
    for 24 hours, so the merchant can switch their verifier without losing events. The row is
    re-read under a lock: an endpoint deleted meanwhile is a NotFound, and two rotations at
    once happen one after the other."""
    locked = db.scalar(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("No such webhook endpoint.")
    secret = signing.new_secret()
    locked.previous_secret_encrypted = locked.secret_encrypted
    locked.previous_secret_expires_at = utcnow() + models.PREVIOUS_SECRET_LIFETIME
    locked.secret_encrypted = _encrypt(secret)
    db.flush()
    return secret


def list_endpoints(db: Session, store_id: int) -> list[WebhookEndpoint]:
    return list(db.scalars(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.store_id == store_id).order_by(WebhookEndpoint.id)
    ))


def get_endpoint(db: Session, store_id: int, endpoint_id: int) -> WebhookEndpoint:
    """The store's endpoint; another store's (or none) is a NotFound, never a hint it exists."""
    endpoint = db.get(WebhookEndpoint, endpoint_id) if 0 < endpoint_id <= MAX_ID else None
    if endpoint is None or endpoint.store_id != store_id:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def _checked_fields(**given: Any) -> dict[str, Any]:
    """The given fields (`url`, `events`, `description`) cleaned, or one ValidationFailed
    naming every wrong one."""
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, check in (("url", _check_url), ("events", _check_events), ("description", _check_description)):
        if name not in given:
            continue
        try:
            cleaned[name] = check(given[name])
        except ValidationFailed as refused:
            for field, messages in (refused.fields or {name: [refused.message]}).items():
                problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationFailed("Check the endpoint's fields.", fields=problems)
    return cleaned


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed.on("url", "Enter the URL that should receive the events.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed.on("url", f"Use a URL of at most {MAX_URL_LENGTH} characters.")
    return addresses.check_endpoint_url(url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"])


def _check_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationFailed.on("events", "Choose at least one event type.")
    unknown = [repr(kind)[:60] for kind in events if kind not in SUBSCRIBABLE_EVENTS]
    if unknown:
        raise ValidationFailed.on("events", f"Unknown event type: {', '.join(unknown[:5])}.")
    return list(dict.fromkeys(events))  # each once, in the order given


def _check_description(description: Any) -> str:
    if not isinstance(description, str):
        raise ValidationFailed.on("description", "Describe the endpoint in words.")
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed.on("description", f"Use at most {MAX_DESCRIPTION_LENGTH} characters.")
    return description


def _encrypt(secret: str) -> str:
    return encrypt_secret(secret, current_app.config["ENCRYPTION_KEY"])


# ---------------------------------------------------------------- events and deliveries


def record_event(db: Session, store_id: int, type: str, obj: Any) -> WebhookEvent | None:
    """Record that `type` happened to `obj` (its JSON API view becomes the event's `data`) with
    one pending delivery per enabled endpoint of the store subscribed to it, in the caller's
    transaction: committed with the change, or not at all. Each delivery's task is enqueued after
    that commit (the sweeper covers a lost one). None, and nothing written, when no endpoint
    listens: an event is only kept to be delivered."""
    if type not in SUBSCRIBABLE_EVENTS:
        raise ValueError(f"{type!r} is not a webhook event type")
    endpoint_ids = [endpoint_id for endpoint_id, events in _subscriptions(db, store_id) if type in events]
    if not endpoint_ids:
        return None
    event, _ = _event_for(db, store_id, type, views.data_of(obj), endpoint_ids)
    return event


def send_test_event(db: Session, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `ping` event to this endpoint only (the merchant's "Send test event")."""
    _require_enabled(endpoint)
    data = {"endpointId": endpoint.id, "message": "A test event from Checkie: your endpoint is reachable."}
    _, (delivery,) = _event_for(db, endpoint.store_id, PING, data, [endpoint.id])
    return delivery


def resend_delivery(db: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send it again now, as a new round of attempts (the same event id and body); the log
    keeps the earlier attempts. A delivery being sent right now keeps its lease, and that
    send's outcome decides what comes next: it is never sent twice at the same moment."""
    _require_enabled(delivery.endpoint)
    locked = db.scalar(
        sa.select(WebhookDelivery).where(WebhookDelivery.id == delivery.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("No such delivery.")
    _make_due(locked)
    db.flush()
    _enqueue([locked.id])
    return locked


def replay_failed(db: Session, endpoint: WebhookEndpoint, since: datetime) -> int:
    """Every failed delivery of the endpoint created at or after `since` is sent again (a new
    round each); returns how many."""
    _require_enabled(endpoint)
    failed = list(db.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.FAILED,
               WebhookDelivery.created_at >= since)
        .order_by(WebhookDelivery.id)
        .with_for_update()
    ))
    for delivery in failed:
        _make_due(delivery)
    db.flush()
    _enqueue([delivery.id for delivery in failed])
    return len(failed)


def deliveries_query(endpoint: WebhookEndpoint, *, status: DeliveryStatus | None = None) -> sa.Select:
    """The endpoint's deliveries, newest first (the (endpoint_id, id DESC) index): its log."""
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.id.desc())


def get_delivery(db: Session, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    delivery = db.get(WebhookDelivery, delivery_id) if 0 < delivery_id <= MAX_ID else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("No such delivery.")
    return delivery


def delivery_attempts(db: Session, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    """Every attempt of the delivery, oldest first (earlier rounds included)."""
    return list(db.scalars(
        sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id)
    ))


def new_event_id() -> str:
    """`evt_` + 144 random bits: unguessable, URL- and header-safe."""
    return "evt_" + secrets.token_urlsafe(18)


# ---------------------------------------------------------------- who listens, read once per transaction
#
# One payment records several events of its store (customer.created, payment.completed, …), and
# each asks which endpoints listen. The answer is read once per transaction and kept in
# `Session.info`: within one transaction it is as if every event were recorded at the moment of
# the first read. It is forgotten when the transaction ends, when any savepoint rolls back, and
# when this session changes an endpoint (a flush or a bulk UPDATE/DELETE of webhook_endpoints),
# so a transaction never uses an answer its own changes made stale.

_SUBSCRIPTIONS_KEY = "checkie.webhook_subscriptions"


def _subscriptions(db: Session, store_id: int) -> list[tuple[int, list]]:
    """(id, event types) of the store's enabled endpoints."""
    session = db() if isinstance(db, scoped_session) else db
    cached = session.info.get(_SUBSCRIPTIONS_KEY)
    if cached is not None and cached[0] is session.get_transaction() and store_id in cached[1]:
        return cached[1][store_id]
    rows = [(row.id, row.events) for row in session.execute(
        sa.select(WebhookEndpoint.id, WebhookEndpoint.events)
        .where(WebhookEndpoint.store_id == store_id, WebhookEndpoint.enabled.is_(True))
    )]
    transaction = session.get_transaction()  # begun by the query if nothing had begun
    if cached is None or cached[0] is not transaction:
        by_store: dict[int, list[tuple[int, list]]] = {}
        cached = session.info[_SUBSCRIPTIONS_KEY] = (transaction, by_store)
    cached[1][store_id] = rows
    return rows


def _forget_subscriptions(session: Session) -> None:
    session.info.pop(_SUBSCRIPTIONS_KEY, None)


@sa.event.listens_for(Session, "before_flush")
def _forget_on_endpoint_change(session: Session, _context, _instances) -> None:
    if _SUBSCRIPTIONS_KEY in session.info and any(
        isinstance(obj, WebhookEndpoint) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        _forget_subscriptions(session)


@sa.event.listens_for(Session, "do_orm_execute")
def _forget_on_bulk_endpoint_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and _SUBSCRIPTIONS_KEY in state.session.info:
        table = getattr(state.statement, "table", None)
        if table is None or getattr(table, "name", None) == WebhookEndpoint.__tablename__:
            _forget_subscriptions(state.session)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: SessionTransaction) -> None:
    _forget_subscriptions(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        _forget_subscriptions(session)


def _event_for(
    db: Session, store_id: int, type: str, data: dict, endpoint_ids: Iterable[int]
) -> tuple[WebhookEvent, list[WebhookDelivery]]:
    event = WebhookEvent(id=new_event_id(), store_id=store_id, type=type, data=data, created_at=utcnow())
    db.add(event)
    deliveries = [
        WebhookDelivery(event=event, endpoint_id=endpoint_id, status=DeliveryStatus.PENDING, attempts=0,
                        next_attempt_at=event.created_at, created_at=event.created_at)
        for endpoint_id in endpoint_ids
    ]
    db.add_all(deliveries)
    db.flush()
    _enqueue([delivery.id for delivery in deliveries])
    return event, deliveries


def _make_due(delivery: WebhookDelivery) -> None:
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.completed_at = None


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("This endpoint is disabled: enable it first.", code="endpoint_disabled")


def _enqueue(delivery_ids: list[int]) -> None:
    """Each delivery's task, once this transaction commits."""
    for delivery_id in delivery_ids:
        enqueue_after_commit(deliver_webhook, delivery_id)
