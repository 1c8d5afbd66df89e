"""The built-in test provider's side in Checkie's database (SPEC §5, §8): the events it reports,
kept as durable work, and its 3-D Secure step.

Its events are the only news of a 3DS outcome, and Huey drops a task whose consumer dies
mid-run, so each event is a row written in the transaction that decided the outcome. A task
claims the row (FOR UPDATE SKIP LOCKED), posts the event to our own intake and records how it
went; a periodic sweeper re-enqueues rows that are due and still pending. The intake stores each
event id once, so an event posted twice (a consumer killed after posting, before recording it)
changes nothing the second time."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import sqlalchemy as sa
from huey import crontab
from sqlalchemy.orm import Session

from checkie import outbox
from checkie.checkout.models import CheckoutSession
from checkie.database import utcnow
from checkie.errors import NotFound
from checkie.extensions import db as _db
from checkie.payments.models import AttemptStatus, EventDeliveryStatus, PaymentAttempt, TestProviderEvent
from checkie.providers import by_name
from checkie.providers.test import TestProvider, authentication_event
from checkie.tasks import enqueue_after_commit, periodic_task, task

log = logging.getLogger("checkie.providers")

#: What a 3DS step's token can look like (URL-safe base64, at most the column's length): anything
#: else is unknown without asking the database.
_ACTION_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def record_events(db: Session, events: Iterable[dict]) -> list[TestProviderEvent]:
    """Write each event as an outbox row in the caller's transaction (flushed with its other
    changes); a task posts it once that transaction commits, and a rollback drops both."""
    rows = [TestProviderEvent(event_id=event["id"], payload=event) for event in events]
    db.add_all(rows)
    for row in rows:
        enqueue_after_commit(deliver_test_event, row.event_id)
    return rows


def claim_due_event(db: Session, event_id: str) -> TestProviderEvent | None:
    """Lock the row if it is still pending and due; None if it is delivered, not due, or another
    worker holds it (SKIP LOCKED), so two consumers never post the same event at once."""
    return outbox.claim_due(db, TestProviderEvent.event_id, event_id, pending=EventDeliveryStatus.PENDING)


def due_event_ids(db: Session, *, limit: int = 500) -> list[str]:
    return outbox.due_keys(db, TestProviderEvent.event_id, pending=EventDeliveryStatus.PENDING, limit=limit)


def deliver(db: Session, row: TestProviderEvent, provider: TestProvider) -> None:
    """Post a claimed event and record the outcome on its row (the caller commits).

    Any exception counts as a failed attempt, not only network errors: an event that can never
    be posted must end as failed rather than be retried forever."""
    row.attempts += 1
    try:
        status = provider.post_event(row.payload)
    except Exception as exc:
        _record_failure(row, f"{type(exc).__name__}: {exc}")
        return
    if not 200 <= status < 300:
        _record_failure(row, f"the intake answered {status}")
        return
    row.status = EventDeliveryStatus.DELIVERED
    row.delivered_at = utcnow()
    row.last_error = None


def _record_failure(row: TestProviderEvent, error: str) -> None:
    outbox.record_failure(row, error, failed=EventDeliveryStatus.FAILED, log=log, what=f"test provider event {row.event_id}")


@task()
def deliver_test_event(event_id: str) -> None:
    row = claim_due_event(_db.session, event_id)
    if row is None:
        return
    provider = by_name(TestProvider.name)
    assert isinstance(provider, TestProvider)
    deliver(_db.session, row, provider)
    _db.session.commit()


@periodic_task(crontab(minute="*"))
def sweep_test_provider_events() -> None:
    """Re-enqueue due pending events: the task that should have posted them may have died."""
    for event_id in due_event_ids(_db.session):
        deliver_test_event(event_id)


# ---------------------------------------------------------------- the 3-D Secure step


def attempt_by_token(db: Session, action_token: str) -> PaymentAttempt | None:
    """The test provider's attempt whose 3DS step `action_token` addresses, whatever its status."""
    if not _ACTION_TOKEN.fullmatch(action_token):
        return None
    return db.scalar(
        sa.select(PaymentAttempt).where(
            PaymentAttempt.action_token == action_token, PaymentAttempt.provider == TestProvider.name
        )
    )


def attempt_awaiting_authentication(db: Session, action_token: str) -> PaymentAttempt:
    """The attempt `action_token` addresses while it waits for 3DS; NotFound otherwise, the same
    for an unknown token as for a finished step."""
    attempt = attempt_by_token(db, action_token)
    if attempt is None or attempt.status is not AttemptStatus.REQUIRES_ACTION:
        raise NotFound("There is no payment waiting for authentication here.")
    return attempt


def finish_authentication(db: Session, attempt: PaymentAttempt, *, outcome: str) -> TestProviderEvent:
    """The shopper's answer on the 3DS page (`complete` or `fail`), recorded as the event that
    reports it; the intake applies it once delivered, as with Stripe."""
    checkout = db.get_one(CheckoutSession, attempt.session_id)
    assert attempt.provider_intent_id is not None  # it waits for authentication: the provider answered
    event = authentication_event(
        outcome, intent_id=attempt.provider_intent_id, amount=attempt.amount, currency=attempt.currency,
        metadata={"checkout_session_id": attempt.session_id, "store_id": str(checkout.store_id)},
    )
    (row,) = record_events(db, [event])
    return row
