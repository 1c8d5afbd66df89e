"""The test provider, its signed events, the HTTP intake and the real payments.outcomes together."""
from __future__ import annotations

import threading

import pytest

from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.extensions import db as _db
from checkie.payments.initiation import initiate_payment
from checkie.payments.models import (
    AttemptStatus,
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    ProviderEvent,
)
from tests.factories import make_attempt, make_checkout, make_page, open_checkout
from tests.http import csrf_token_from
from tests.psp import intent_event, signed_event


def poster_checkout(db, store, *, amount: int) -> CheckoutSession:
    """A session a shopper opened on a published "Poster" page and gave their email to (committed)."""
    checkout = open_checkout(db, make_page(db, store, title="Poster", amount=amount, publish=True), email="shopper@example.com")
    db.commit()
    return checkout


def pay(db, checkout, method) -> PaymentAttempt:
    attempt = initiate_payment(db, checkout, payment_method=method)
    db.commit()  # the provider's event is delivered to /api/webhooks/test now
    db.expire_all()
    return attempt


def test_a_visa_payment_completes_once_though_answered_twice(db, store):
    attempt = pay(db, poster_checkout(db, store, amount=2500), "pm_card_visa")
    checkout = db.get(CheckoutSession, attempt.session_id)
    assert checkout.state == CheckoutState.COMPLETED
    payment = db.query(Payment).one()
    assert (payment.amount, payment.currency, payment.provider) == (2500, "USD", "test")
    assert db.query(ProviderEvent).one().type == "payment_intent.succeeded"
    assert db.query(BalanceTransaction).count() == 2  # payment + fee, not four


def test_a_decline_reopens_the_session(db, store):
    attempt = pay(db, poster_checkout(db, store, amount=2500), "pm_card_chargeDeclined")
    assert (attempt.status, attempt.failure_code) == (AttemptStatus.FAILED, "card_declined")
    assert db.get(CheckoutSession, attempt.session_id).state == CheckoutState.OPEN
    assert db.query(Payment).count() == 0


@pytest.mark.parametrize(("outcome", "state", "payments"), [("complete", CheckoutState.COMPLETED, 1), ("fail", CheckoutState.OPEN, 0)])
def test_3ds_through_the_page(client, db, store, outcome, state, payments):
    attempt = pay(db, poster_checkout(db, store, amount=15000), "pm_card_visa")  # over 100.00
    assert attempt.status == AttemptStatus.REQUIRES_ACTION
    assert db.get(CheckoutSession, attempt.session_id).state == CheckoutState.AWAITING_ACTION
    url = f"/test-provider/3ds/{attempt.action_token}"
    assert attempt.next_action_url == "http://localhost" + url
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "outcome": outcome})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(CheckoutSession, attempt.session_id).state == state
    assert db.query(Payment).count() == payments
    if outcome == "fail":
        assert db.get(PaymentAttempt, attempt.id).failure_code == "authentication_failed"
    assert client.get(url).status_code == 404  # no longer awaiting authentication


def test_two_hundred_concurrent_deliveries_record_one_payment(app, db, store):
    checkout = make_checkout(db, make_page(db, store, amount=4200, publish=True), state=CheckoutState.PROCESSING)
    make_attempt(db, checkout, status=AttemptStatus.PROCESSING, intent_id="pi_test_race", payment_method="pm_card_visa")
    db.commit()
    body, headers = signed_event(intent_event(intent_id="pi_test_race", amount=4200,
                                              metadata={"checkout_session_id": checkout.id, "store_id": str(store.id)}))
    start = threading.Barrier(200)
    statuses: list[int] = []

    def deliver():
        with app.app_context():
            client = app.test_client()
            start.wait()
            statuses.append(client.post("/api/webhooks/test", data=body, headers=headers).status_code)
            _db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.expire_all()
    assert statuses == [200] * 200
    assert db.query(ProviderEvent).count() == 1
    assert db.query(Payment).count() == 1
    assert db.query(BalanceTransaction).count() == 2
    assert db.get(CheckoutSession, checkout.id).state == CheckoutState.COMPLETED
