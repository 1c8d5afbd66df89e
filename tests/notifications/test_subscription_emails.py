"""The emails a subscriber gets, as the subscription services queue them (plain text and HTML):
the trial started, a declined renewal with the date of the next try, the end (after dunning or
by the merchant), and the receipt of a renewal."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.notifications.models import EmailMessage
from checkie.notifications.services import queue_email
from checkie.subscriptions import renewals, services
from checkie.subscriptions.models import Subscription, SubscriptionRenewal
from tests import subscription_factories
from tests.emails import emails_to

SHOPPER = "shopper@example.com"


def day(moment) -> str:
    return f"{moment.day} {moment:%b %Y}"


def subscribe(db, store, *, trial_days: int = 0, card: str = "pm_card_visa") -> Subscription:
    """A shopper's completed checkout of a €9.00-a-month page (the subscription it started)."""
    return subscription_factories.subscribe(db, store, title="Club", amount=900, currency="EUR",
                                            trial_days=trial_days, card=card)


def only(db, kind: str) -> EmailMessage:
    [message] = emails_to(db, SHOPPER, kind)
    return message


def test_the_trial_email_says_when_it_ends_and_what_follows(app, db, store):
    subscription = subscribe(db, store, trial_days=14)
    message = only(db, "subscription_trial_started")
    assert message.subject == "Your free trial with Acme Goods has started"
    ends = f"It ends on {day(subscription.trial_end)}. Then the card you gave is charged €9.00 every month"
    assert ends in " ".join(message.text_body.split())
    assert f"<strong>{day(subscription.trial_end)}</strong>" in message.html_body
    assert "<strong>€9.00 every month</strong>" in message.html_body and "Nothing has been charged yet." in message.html_body


@pytest.fixture
def declined(app, db, store) -> Subscription:
    """A subscription whose first renewal was just declined (the card pays once, then never)."""
    subscription = subscribe(db, store, card="pm_card_chargeCustomerFail")
    renewals.advance_clock(db, store, days=32)
    return subscription


def test_a_declined_renewal_says_why_and_when_it_is_tried_again(db, declined):
    renewal = db.scalars(sa.select(SubscriptionRenewal).where(SubscriptionRenewal.failures == 1)).one()
    message = only(db, "subscription_payment_failed")
    text = " ".join(message.text_body.split())
    assert "We could not charge €9.00 for your subscription to Club from Acme Goods: your card was declined." in text
    assert f"We will try again on {day(renewal.due_at)}. Please make sure" in text and "last time" not in text
    assert renewal.due_at == renewal.first_failed_at + timedelta(days=3)
    assert f"<strong>{day(renewal.due_at)}</strong>" in message.html_body


def test_the_last_retry_is_announced_as_the_last(db, store, declined):
    renewals.advance_clock(db, store, days=5)  # the tries of day 3 and day 5 fail too
    third = emails_to(db, SHOPPER, "subscription_payment_failed")[-1]
    renewal = db.scalars(sa.select(SubscriptionRenewal).where(SubscriptionRenewal.failures == 3)).one()
    assert f"We will try again on {day(renewal.due_at)}, for the last time." in " ".join(third.text_body.split())


def test_the_end_after_every_retry_failed_says_so(db, store, declined):
    renewals.advance_clock(db, store, days=10)
    db.refresh(declined)
    message = only(db, "subscription_canceled")
    text = " ".join(message.text_body.split())
    assert f"Your subscription to Club from Acme Goods ended on {day(declined.canceled_at)}." in text
    assert "every try was declined" in text and "No further payments will be taken;" in text
    assert "every try was declined" in message.html_body and "<strong>Club</strong>" in message.html_body


def test_a_merchants_cancellation_blames_no_card(app, db, store):
    subscription = subscribe(db, store)
    services.cancel(db, subscription, at_period_end=False)
    db.commit()
    message = only(db, "subscription_canceled")
    assert "No further payments will be taken." in message.text_body and "declined" not in message.text_body
    assert "declined" not in message.html_body


def test_a_renewal_receipt_names_the_period_it_pays_for(app, db, store):
    subscription = subscribe(db, store)
    start, end = subscription.current_period_end, subscription.current_period_end + timedelta(days=31)
    message = queue_email(
        db, to=SHOPPER, template="receipt", subject="Your receipt from Acme Goods", store_name="Acme Goods",
        page_title="Club", options=[], answers=[], coupon_code=None, amount="€9.00", payment_id=7, name="Sam",
        paid_at=start, period_start=start, period_end=end,
    )
    text = " ".join(message.text_body.split())
    assert "Your subscription to Club from Acme Goods was renewed." in text
    assert f"Period: {day(start)} to {day(end)} Amount paid: €9.00" in text
    assert f"<td>{day(start)} to {day(end)}</td>" in message.html_body


def test_the_renewal_task_sends_a_receipt_that_names_the_period(app, db, store):
    subscription = subscribe(db, store)
    start = subscription.current_period_end
    renewals.advance_clock(db, store, days=32)
    first, renewal = emails_to(db, SHOPPER, "receipt")
    db.refresh(subscription)
    text = " ".join(renewal.text_body.split())
    assert "Your subscription to Club from Acme Goods was renewed." in text
    assert f"Period: {day(start)} to {day(subscription.current_period_end)} Amount paid: €9.00" in text
    assert "Period:" not in first.text_body and "<td>Club</td>" in renewal.html_body
