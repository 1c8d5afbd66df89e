"""The test provider's events as durable work: a row per event, written in the transaction that
decided the outcome, posted once by a task, picked up again by the sweeper while due and pending."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checkie import outbox
from checkie.database import utcnow
from checkie.payments.models import EventDeliveryStatus, ProviderEvent, TestProviderEvent
from checkie.payments.test_provider import deliver_test_event, record_events, sweep_test_provider_events
from tests.psp import intent_event


def row_of(db, event_id: str) -> TestProviderEvent:
    db.expire_all()
    return db.query(TestProviderEvent).filter_by(event_id=event_id).one()


def received(db) -> list[str]:
    return [event.event_id for event in db.query(ProviderEvent).order_by(ProviderEvent.id)]


def test_a_recorded_event_is_posted_once_its_transaction_commits(db):
    event = intent_event(intent_id="pi_test_unknown")
    record_events(db, [event])
    assert received(db) == []
    db.commit()
    row = row_of(db, event["id"])
    assert (row.status, row.attempts, row.last_error) == (EventDeliveryStatus.DELIVERED, 1, None)
    assert row.delivered_at is not None
    assert received(db) == [event["id"]]


def test_an_event_of_a_rolled_back_transaction_is_never_posted(db):
    record_events(db, [intent_event(intent_id="pi_test_doomed")])
    db.rollback()
    db.commit()
    sweep_test_provider_events.call_local()
    assert db.query(TestProviderEvent).count() == 0 and received(db) == []


def test_a_delivered_event_is_not_posted_again(db):
    event = intent_event(intent_id="pi_test_once")
    record_events(db, [event])
    db.commit()
    deliver_test_event.call_local(event["id"])  # a duplicate task
    sweep_test_provider_events.call_local()
    assert row_of(db, event["id"]).attempts == 1
    assert received(db) == [event["id"]]


def test_the_sweeper_posts_a_due_event_whose_task_was_lost(db):
    """As after a consumer died with the task: the row is there, nothing is queued."""
    event = intent_event(intent_id="pi_test_lost")
    db.add(TestProviderEvent(event_id=event["id"], payload=event))
    db.commit()
    assert received(db) == []
    sweep_test_provider_events.call_local()
    assert row_of(db, event["id"]).status is EventDeliveryStatus.DELIVERED
    assert received(db) == [event["id"]]


def test_the_sweeper_leaves_events_that_are_not_due(db):
    event = intent_event(intent_id="pi_test_later")
    db.add(TestProviderEvent(event_id=event["id"], payload=event, due_at=utcnow() + timedelta(minutes=5)))
    db.commit()
    sweep_test_provider_events.call_local()
    assert row_of(db, event["id"]).status is EventDeliveryStatus.PENDING and received(db) == []


def test_a_refused_post_backs_off_then_gives_up(db):
    not_an_event = {"id": "evt_test_no_type"}  # the intake answers 400
    record_events(db, [not_an_event])
    db.commit()
    row = row_of(db, not_an_event["id"])
    assert (row.status, row.attempts, row.last_error) == (EventDeliveryStatus.PENDING, 1, "the intake answered 400")
    assert row.due_at > utcnow() + timedelta(seconds=50)  # a minute after the first failure
    row.attempts = outbox.MAX_ATTEMPTS - 1
    row.due_at = utcnow()
    db.commit()
    sweep_test_provider_events.call_local()
    row = row_of(db, not_an_event["id"])
    assert (row.status, row.attempts) == (EventDeliveryStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert received(db) == []


@pytest.mark.parametrize("failure", [ConnectionRefusedError("no server"), RuntimeError("boom")])
def test_any_error_while_posting_counts_as_a_failed_attempt(db, monkeypatch, failure):
    def refuse(self, event):
        raise failure

    monkeypatch.setattr("checkie.providers.test.TestProvider.post_event", refuse)
    event = intent_event(intent_id="pi_test_network")
    record_events(db, [event])
    db.commit()
    row = row_of(db, event["id"])
    assert (row.status, row.attempts) == (EventDeliveryStatus.PENDING, 1)
    assert row.last_error == f"{type(failure).__name__}: {failure}"
