"""Cancel (now or at period end), un-cancel, pause and resume through the services, and the
declared action table: every move it lacks is refused (409) and changes nothing."""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from checkie.subscriptions import actions, renewals, services
from checkie.subscriptions.actions import Action, Guard, IllegalAction
from checkie.subscriptions.models import (
    CancellationReason,
    RenewalStatus,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from tests.subscriptions.helpers import DAY, open_renewal, payments_of, renewals_of, subscribe


def test_cancel_at_period_end_runs_until_then_and_ends_without_a_charge(db, store):
    subscription = subscribe(db, store)
    period_end = subscription.current_period_end
    services.cancel(db, subscription, at_period_end=True, reason="requested_by_customer")
    db.commit()

    assert renewals.advance_clock(db, store, days=6)[1] == 0
    db.refresh(subscription)
    assert (subscription.status, subscription.cancel_at_period_end) == (SubscriptionStatus.ACTIVE, True)

    assert renewals.advance_clock(db, store, days=1)[1] == 0
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.CANCELED and subscription.canceled_at == period_end
    assert subscription.cancellation_reason is CancellationReason.REQUESTED_BY_CUSTOMER
    assert [row.status for row in renewals_of(db, subscription)] == [RenewalStatus.CANCELED]
    assert len(payments_of(db, subscription)) == 1


def test_uncancel_before_the_period_ends_renews_normally(db, store):
    subscription = subscribe(db, store)
    services.cancel(db, subscription, at_period_end=True)
    db.commit()
    services.uncancel(db, subscription)
    db.commit()

    assert renewals.advance_clock(db, store, days=7)[1] == 1
    db.refresh(subscription)
    assert (subscription.status, subscription.cancel_at_period_end, subscription.cancellation_reason) == (
        SubscriptionStatus.ACTIVE, False, None)
    assert len(payments_of(db, subscription)) == 2


def test_cancel_now_stops_every_charge(db, store):
    subscription = subscribe(db, store)
    services.cancel(db, subscription, at_period_end=False, reason="fraudulent")
    db.commit()

    assert subscription.status is SubscriptionStatus.CANCELED
    assert subscription.cancellation_reason is CancellationReason.FRAUDULENT
    assert [row.status for row in renewals_of(db, subscription)] == [RenewalStatus.CANCELED]
    assert renewals.advance_clock(db, store, days=30)[1] == 0
    assert len(payments_of(db, subscription)) == 1


def test_a_paused_subscription_is_not_charged_and_resumes_with_what_was_left_of_its_period(db, store):
    subscription = subscribe(db, store)
    period_end = subscription.current_period_end
    renewals.advance_clock(db, store, days=2)
    services.pause(db, subscription)
    db.commit()
    left = period_end - subscription.paused_at

    assert renewals.advance_clock(db, store, days=20)[1] == 0
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.PAUSED
    assert len(payments_of(db, subscription)) == 1

    services.resume(db, subscription)
    db.commit()
    resumed_at = services.timeline(db, subscription)[-1].at
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_end == resumed_at + left
    assert open_renewal(db, subscription).due_at == resumed_at + left

    assert renewals.advance_clock(db, store, days=4)[1] == 0
    assert renewals.advance_clock(db, store, days=1)[1] == 1
    [_, renewal] = payments_of(db, subscription)
    assert renewal.created_at == resumed_at + left


def _legal(status: SubscriptionStatus, action: Action, ending: bool) -> Move | None:  # noqa: F821
    for move in actions.TABLE:
        if move.action is action and move.source is status and (
            move.guard is None or (move.guard is Guard.ENDING) == ending
        ):
            return move
    return None


ALL_MOVES = list(itertools.product(SubscriptionStatus, Action, (False, True)))
ILLEGAL = [combination for combination in ALL_MOVES if _legal(*combination) is None]
LEGAL = [combination for combination in ALL_MOVES if _legal(*combination) is not None]


def _as(db, store, status: SubscriptionStatus, ending: bool) -> Subscription:
    """A real subscription, then put in `status` (test set-up: every pair of the table)."""
    subscription = subscribe(db, store)
    subscription.status, subscription.cancel_at_period_end = status, ending
    if status is SubscriptionStatus.PAUSED:
        subscription.paused_at = subscription.started_at + DAY
    db.commit()
    return subscription


def _columns(subscription: Subscription) -> dict:
    return {column.key: getattr(subscription, column.key) for column in sa.inspect(Subscription).columns}


@pytest.mark.parametrize(("status", "action", "ending"), ILLEGAL)
def test_every_move_the_table_lacks_is_refused_and_changes_nothing(db, store, status, action, ending):
    subscription = _as(db, store, status, ending)
    before, renewals_before = _columns(subscription), [(r.id, r.status) for r in renewals_of(db, subscription)]

    with pytest.raises(IllegalAction) as refused:
        services.perform(db, subscription, action, reason="other")
    db.rollback()

    assert refused.value.status == 409 and refused.value.code == "invalid_subscription_action"
    db.expire_all()
    assert _columns(db.get(Subscription, subscription.id)) == before
    assert [(r.id, r.status) for r in renewals_of(db, subscription)] == renewals_before
    assert [e.kind for e in db.scalars(sa.select(SubscriptionEvent))] == ["created"]


@pytest.mark.parametrize(("status", "action", "ending"), LEGAL)
def test_every_move_of_the_table_reaches_its_target(db, store, status, action, ending):
    subscription = _as(db, store, status, ending)

    changed = services.perform(db, subscription, action)
    db.commit()

    assert changed.status is _legal(status, action, ending).target
    flag_after = {Action.CANCEL_AT_PERIOD_END: True, Action.UNCANCEL: False, Action.CANCEL_NOW: False}
    assert changed.cancel_at_period_end is flag_after.get(action, ending)


def test_the_table_leaves_canceled_and_incomplete_with_no_move():
    assert not [move for move in actions.TABLE
                if move.source in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE)]
    assert len(ILLEGAL) + len(LEGAL) == len(SubscriptionStatus) * len(Action) * 2


def test_a_trial_set_to_cancel_ends_at_the_trials_end_without_a_charge(db, store):
    subscription = subscribe(db, store, trial_days=5)
    services.cancel(db, subscription, at_period_end=True)
    db.commit()

    assert renewals.advance_clock(db, store, days=30)[1] == 0

    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.CANCELED and subscription.canceled_at == subscription.trial_end
    assert subscription.cancellation_reason is CancellationReason.REQUESTED_BY_MERCHANT
    assert payments_of(db, subscription) == []
