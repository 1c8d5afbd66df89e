"""What is due: the periodic task's query at each store's own clock, and advance_clock settling
a store's due renewals in due order and counting the successful charges."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.stores.payment_settings import update_payment_settings
from checkie.subscriptions import clock, renewals
from checkie.subscriptions.models import RenewalStatus
from tests.factories import make_store, make_user
from tests.subscriptions.helpers import DAY, move_clock, open_renewal, payments_of, renewals_of, subscribe


def test_due_renewals_are_picked_at_each_stores_clock_and_future_ones_are_not(db, store):
    on_wall_clock = subscribe(db, store, slug="wall")
    not_yet = subscribe(db, store, slug="later", email="later@example.com")
    wall_due = open_renewal(db, on_wall_clock)
    wall_due.due_at = utcnow() - timedelta(minutes=1)  # set-up: a period that ended a minute ago
    db.commit()
    ahead_store = make_store(db, owner=make_user(db, email="ahead@example.com"), name="Ahead", slug="ahead")
    ahead = subscribe(db, ahead_store, slug="ahead-club")
    move_clock(db, ahead_store, days=8)

    due = renewals.due_renewal_ids(db)

    assert due == [wall_due.id, open_renewal(db, ahead).id]
    assert renewals.due_renewal_ids(db, store_id=store.id) == [wall_due.id]
    assert open_renewal(db, not_yet).id not in due


def test_the_periodic_task_renews_what_is_due(db, store):
    subscription = subscribe(db, store)
    move_clock(db, store, days=7)

    renewals.run_due_renewals.call_local()

    assert len(payments_of(db, subscription)) == 2
    assert [row.status for row in renewals_of(db, subscription)] == [RenewalStatus.SUCCEEDED, RenewalStatus.SCHEDULED]


def test_advance_clock_settles_in_due_order_and_counts_successful_charges(db, store):
    later = subscribe(db, store, slug="later", trial_days=5)
    declined = subscribe(db, store, slug="declined", card="pm_card_chargeCustomerFail", trial_days=4,
                         email="declined@example.com")
    sooner = subscribe(db, store, slug="sooner", trial_days=2, email="sooner@example.com")

    now, charged = renewals.advance_clock(db, store, days=6)

    assert charged == 2
    [first] = payments_of(db, sooner)
    [second] = payments_of(db, later)
    assert first.id < second.id and first.created_at == sooner.trial_end and second.created_at == later.trial_end
    assert open_renewal(db, declined).failures == 1
    assert now >= later.trial_end + DAY


@pytest.mark.parametrize("days", [0, -3, True, 1.5, "2", renewals.MAX_ADVANCE_DAYS + 1, 10**9])
def test_the_clock_only_moves_forward_by_a_sensible_whole_number_of_days(db, store, days):
    subscription = subscribe(db, store)

    with pytest.raises(ValidationFailed) as refused:
        renewals.advance_clock(db, store, days=days)

    assert list(refused.value.fields) == ["days"]
    db.rollback()
    assert clock.offset(db, store.id) == timedelta(0)
    assert len(payments_of(db, subscription)) == 1


def test_the_clock_of_a_store_outside_test_mode_does_not_move(db, store):
    """The service itself refuses, so every door to it (API, dashboard) gets the same rule: a
    store on Stripe with live keys takes real money."""
    update_payment_settings(db, store, provider="stripe", publishable_key="pk_live_checkie0001",
                            secret_key="sk_live_checkie0001", webhook_secret="whsec_checkie0001")
    with pytest.raises(clock.TestModeOnly):
        renewals.advance_clock(db, store, days=1)
    assert clock.offset(db, store.id) == timedelta(0)
