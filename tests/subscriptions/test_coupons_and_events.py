"""Coupon durations across renewals (exact amounts per payment), and the `subscription.*`
webhook events a merchant's endpoint receives, each carrying the subscription's API view."""
from __future__ import annotations

import json

import pytest

from checkie.api.subscription_schemas import SubscriptionSchema
from checkie.subscriptions import renewals, services
from checkie.webhooks import services as webhooks
from tests.factories import make_coupon
from tests.subscriptions.helpers import payments_of, subscribe


@pytest.mark.parametrize(("duration", "trial_days", "amounts"), [
    ("once", 0, [700, 1000, 1000]),
    ("once", 3, [700, 1000, 1000]),
    ("forever", 0, [700, 700, 700]),
])
def test_weekly_coupon_durations(db, store, duration, trial_days, amounts):
    make_coupon(db, store, code="SAVE3", amount_off=300, duration=duration)
    subscription = subscribe(db, store, coupon_code="SAVE3", trial_days=trial_days)

    renewals.advance_clock(db, store, days=trial_days + 14)

    assert [payment.amount for payment in payments_of(db, subscription)] == amounts
    assert [payment.line["discount"] for payment in payments_of(db, subscription)] == [1000 - a for a in amounts]


def test_a_repeating_coupon_discounts_the_periods_of_its_months_only(db, store):
    make_coupon(db, store, code="TWOMONTHS", amount_off=300, duration="repeating", duration_months=2)
    subscription = subscribe(db, store, interval="month", coupon_code="TWOMONTHS")

    renewals.advance_clock(db, store, days=62)

    assert [payment.amount for payment in payments_of(db, subscription)] == [700, 700, 1000]


def test_a_once_coupon_on_a_trial_discounts_the_charge_at_the_trials_end_only(db, store):
    make_coupon(db, store, code="HALF", percent_off=50, duration="once")
    subscription = subscribe(db, store, amount=900, trial_days=7, coupon_code="HALF")

    assert renewals.advance_clock(db, store, days=7)[1] == 1
    assert renewals.advance_clock(db, store, days=7)[1] == 1

    assert [payment.amount for payment in payments_of(db, subscription)] == [450, 900]


SUBSCRIPTION_EVENTS = ["subscription.created", "subscription.renewed", "subscription.paused",
                       "subscription.resumed", "subscription.cancelled"]


def test_each_change_sends_its_event_with_the_subscription_view(db, store, receiver):
    webhooks.create_endpoint(db, store, url=receiver.url, events=SUBSCRIPTION_EVENTS)
    db.commit()
    subscription = subscribe(db, store)
    seen = [SubscriptionSchema().dump(subscription)]
    renewals.advance_clock(db, store, days=7)
    db.refresh(subscription)
    seen.append(SubscriptionSchema().dump(subscription))
    for change in (services.pause, services.resume, lambda s, sub: services.cancel(s, sub, at_period_end=False)):
        change(db, subscription)
        db.commit()
        seen.append(SubscriptionSchema().dump(subscription))

    bodies = [json.loads(request.body) for request in receiver.received]
    assert [body["type"] for body in bodies] == SUBSCRIPTION_EVENTS
    assert [body["data"]["status"] for body in bodies] == ["active", "active", "paused", "active", "canceled"]
    assert [body["data"] for body in bodies] == json.loads(json.dumps(seen, default=str))



def test_a_trials_free_first_charge_from_a_once_coupon_is_not_free_again(db, store):
    """A 100 % `once` coupon makes the charge at the trial's end nothing (no Payment is
    recorded): the periods after it cost the full price."""
    make_coupon(db, store, code="FIRSTFREE", percent_off=100, duration="once")
    subscription = subscribe(db, store, coupon_code="FIRSTFREE", trial_days=7)

    assert renewals.advance_clock(db, store, days=7 + 14)[1] == 2

    assert [payment.amount for payment in payments_of(db, subscription)] == [1000, 1000]
