"""A free trial saves the card through a setup intent: its signed PSP events go through the
intake once each, a 3DS card completes through the test provider's 3DS step, and a declined
card fails the attempt as a payment's decline would."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.checkout.models import CheckoutState
from checkie.payments.initiation import initiate_payment
from checkie.payments.models import AttemptStatus, Payment, ProviderEvent
from checkie.providers.test import build_event
from checkie.subscriptions import services
from checkie.subscriptions.models import Subscription, SubscriptionStatus
from tests.factories import make_page, open_checkout
from tests.http import csrf_token_from
from tests.psp import signed_event


def trial_attempt(db, store, card: str = "pm_card_threeDSecureRequired"):
    page = make_page(db, store, title="Coffee club", amount=900, pricing_type="subscription", interval="month",
                     trial_days=14, publish=True)
    checkout = open_checkout(db, page, email="sam@example.com", name="Sam Shopper")
    attempt = initiate_payment(db, checkout, payment_method=card)
    db.commit()
    return checkout, attempt


def setup_event(event_type: str, checkout, attempt, **extra) -> dict:
    return build_event(event_type, intent_id=attempt.provider_intent_id, amount=0, currency="",
                       metadata={"checkout_session_id": checkout.id, "store_id": str(checkout.store_id)}, **extra)


def post(client, event):
    body, headers = signed_event(event)
    response = client.post("/api/webhooks/test", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()


def subscriptions(db) -> list[Subscription]:
    db.expire_all()
    return list(db.scalars(sa.select(Subscription)))


def test_setup_succeeded_completes_once_and_a_duplicate_changes_nothing(client, db, store):
    checkout, attempt = trial_attempt(db, store)
    event = setup_event("setup_intent.succeeded", checkout, attempt)
    stored_before = db.scalar(sa.select(sa.func.count()).select_from(ProviderEvent))

    post(client, event)
    post(client, event)
    post(client, setup_event("setup_intent.succeeded", checkout, attempt))

    db.refresh(checkout)
    [subscription] = subscriptions(db)
    assert checkout.state is CheckoutState.COMPLETED and subscription.status is SubscriptionStatus.TRIALING
    assert db.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == stored_before + 2
    assert db.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_setup_failed_fails_the_attempt_and_starts_nothing(client, db, store):
    checkout, attempt = trial_attempt(db, store)

    post(client, setup_event("setup_intent.setup_failed", checkout, attempt, error=("card_declined", "Declined.")))
    post(client, setup_event("setup_intent.succeeded", checkout, attempt))

    db.refresh(attempt)
    assert (attempt.status, attempt.failure_code) == (AttemptStatus.FAILED, "card_declined")
    assert subscriptions(db) == []


def test_setup_requires_action_asks_the_shopper_once(client, db, store):
    checkout, attempt = trial_attempt(db, store, card="pm_card_visa")
    # Set-up: a setup intent the PSP has not answered yet.
    attempt.status, checkout.state = AttemptStatus.PROCESSING, CheckoutState.PROCESSING
    db.commit()
    [subscription] = subscriptions(db)
    db.delete(subscription)
    db.commit()

    post(client, setup_event("setup_intent.requires_action", checkout, attempt, next_action_url="http://localhost/3ds/x"))
    post(client, setup_event("setup_intent.requires_action", checkout, attempt, next_action_url="http://localhost/3ds/y"))

    db.refresh(attempt)
    db.refresh(checkout)
    assert (attempt.status, attempt.next_action_url) == (AttemptStatus.REQUIRES_ACTION, "http://localhost/3ds/x")
    assert checkout.state is CheckoutState.AWAITING_ACTION


def test_a_3ds_card_on_a_trial_page_completes_through_the_3ds_step(client, db, store):
    checkout, attempt = trial_attempt(db, store)
    assert attempt.status is AttemptStatus.REQUIRES_ACTION and subscriptions(db) == []
    page = f"/test-provider/3ds/{attempt.action_token}"

    token = csrf_token_from(client.get(page).get_data(as_text=True))
    assert client.post(page, data={"csrf_token": token, "outcome": "complete"}).status_code == 303

    db.refresh(checkout)
    [subscription] = subscriptions(db)
    assert checkout.state is CheckoutState.COMPLETED
    assert subscription.status is SubscriptionStatus.TRIALING and subscription.payment_method == "pm_card_threeDSecureRequired"
    assert services.subscription_of_checkout(db, checkout.id).id == subscription.id


def test_a_declined_card_on_a_trial_page_fails_the_attempt_like_a_payment(db, store):
    checkout, attempt = trial_attempt(db, store, card="pm_card_chargeDeclined")
    one_time = make_page(db, store, title="Mug", amount=900, publish=True, slug="mug")
    paid_checkout = open_checkout(db, one_time, email="sam@example.com", name="Sam Shopper")
    paid_attempt = initiate_payment(db, paid_checkout, payment_method="pm_card_chargeDeclined")
    db.commit()

    assert (attempt.status, attempt.failure_code) == (paid_attempt.status, paid_attempt.failure_code)
    assert attempt.status is AttemptStatus.FAILED and checkout.state is paid_checkout.state
    assert subscriptions(db) == []
