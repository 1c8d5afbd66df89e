"""initiate_payment with a scripted provider, retries, coupon reservations, and expiry."""
from __future__ import annotations

import threading
import types
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

import checkie.providers
from checkie.catalog.models import Coupon, CouponHold
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.checkout.states import CheckoutEvent
from checkie.checkout.tasks import expire_checkouts
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.extensions import db as _db
from checkie.payments import initiation
from checkie.payments.initiation import initiate_payment
from checkie.payments.models import AttemptStatus, Payment, PaymentAttempt
from tests.factories import force_state, make_coupon, make_field, make_page, open_checkout, payable_checkout
from tests.psp import FakeProvider

S = CheckoutState


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    monkeypatch.setattr(checkie.providers, "for_store", lambda store: fake)
    return fake


def _redemptions(db, coupon_id) -> int:
    return db.scalar(sa.select(Coupon.redemption_count).where(Coupon.id == coupon_id))


def test_initiate_asks_the_provider_for_the_total(db, store, provider):
    page = make_page(db, store, amount=1500, variants={"Size": {"S": 0, "L": 250}}, publish=True)
    session = payable_checkout(db, page)
    provider.statuses = ["requires_action"]
    attempt = initiate_payment(db, session, payment_method="pm_card_visa")
    assert provider.calls == [{
        "amount": 1500, "currency": "usd",
        "metadata": {"checkout_session_id": session.id, "store_id": str(store.id), "attempt": "1"},
        "payment_method": "pm_card_visa",
    }]
    assert (attempt.number, attempt.provider, attempt.amount, attempt.currency) == (1, "test", 1500, "USD")
    assert attempt.provider_intent_id.startswith("pi_fake_") and attempt.payment_method == "pm_card_visa"
    assert session.attempt_count == 1
    assert session.state is S.AWAITING_ACTION
    assert [t.event for t in session.transitions][-2:] == ["INITIATE_PAYMENT", "REQUIRES_ACTION"]


def test_sync_answers_go_through_payments_outcomes(db, store, provider, monkeypatch):
    """The dispatch itself, with a recording stand-in for payments.outcomes."""
    calls = []
    fake = types.SimpleNamespace(
        payment_requires_action=lambda db, **kw: calls.append(("requires_action", kw)),
        payment_failed=lambda db, **kw: calls.append(("failed", kw)),
        payment_succeeded=lambda db, **kw: calls.append(("succeeded", kw)),
    )
    monkeypatch.setattr(initiation, "outcomes", fake)
    page = make_page(db, store, amount=1000, publish=True)
    provider.statuses = ["failed"]
    session = payable_checkout(db, page)
    attempt = initiate_payment(db, session, payment_method=None)
    assert calls == [("failed", {"provider": "test", "intent_id": attempt.provider_intent_id,
                                 "code": "card_declined", "message": "Your card was declined."})]
    assert session.state is S.PROCESSING  # the stand-in did not move it
    services.apply_event(db, session, CheckoutEvent.PAYMENT_FAILED)
    initiate_payment(db, session, payment_method=None)
    assert calls[-1][0] == "succeeded"
    assert calls[-1][1]["amount"] == 1000 and calls[-1][1]["currency"] == "usd"
    assert calls[-1][1]["metadata"] == {"checkout_session_id": session.id, "store_id": str(store.id), "attempt": "2"}


def test_success_completes_the_session(db, store, provider):
    session = payable_checkout(db, make_page(db, store, amount=1200, publish=True))
    attempt = initiate_payment(db, session, payment_method="pm_card_visa")
    db.commit()
    assert session.state is S.COMPLETED and session.completed_at is not None
    assert attempt.status is AttemptStatus.SUCCEEDED
    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session.id))
    assert (payment.amount, payment.currency) == (1200, "USD")


def test_three_failures_expire_the_session(db, store, provider):
    coupon = make_coupon(db, store, code="SAVE10", max_redemptions=5)
    session = open_checkout(db, make_page(db, store, publish=True), email="s@example.com", coupon_code="SAVE10")
    db.commit()  # the coupon's redemption is held on a connection of its own, which sees committed rows
    provider.statuses = ["failed", "failed", "failed"]
    states = []
    for _ in range(3):
        initiate_payment(db, session, payment_method="pm_card_chargeDeclined")
        db.commit()
        states.append(session.state)
        assert _redemptions(db, coupon.id) == 0 and not session.coupon_reserved
    assert states == [S.OPEN, S.OPEN, S.EXPIRED]
    assert session.attempt_count == 3
    numbers = db.scalars(sa.select(PaymentAttempt.number).where(PaymentAttempt.session_id == session.id).order_by(PaymentAttempt.number))
    assert list(numbers) == [1, 2, 3]
    with pytest.raises(services.InvalidTransition):
        initiate_payment(db, session, payment_method="pm_card_visa")


def test_guard_failure_lists_reasons_and_changes_nothing(db, store, provider):
    page = make_page(db, store, publish=True)
    make_field(db, page, label="Company", key="company", required=True)
    session = open_checkout(db, page)
    db.commit()
    with pytest.raises(ValidationFailed) as excinfo:
        initiate_payment(db, session, payment_method="pm_card_visa")
    assert set(excinfo.value.fields) == {"email", "custom_fields.company"}
    db.rollback()
    assert session.state is S.OPEN and session.attempt_count == 0 and provider.calls == []


def test_coupon_reserved_while_paying_and_refused_when_used_up(db, store, provider):
    coupon = make_coupon(db, store, code="ONCE", max_redemptions=1)
    page = make_page(db, store, publish=True)
    first = open_checkout(db, page, email="a@example.com", coupon_code="ONCE")
    second = open_checkout(db, page, email="b@example.com", coupon_code="ONCE")
    db.commit()  # the coupon's redemption is held on a connection of its own, which sees committed rows
    provider.statuses = ["requires_action"]
    initiate_payment(db, first, payment_method=None)
    assert first.coupon_reserved and _redemptions(db, coupon.id) == 1
    db.commit()
    with pytest.raises(ValidationFailed) as excinfo:
        initiate_payment(db, second, payment_method=None)
    assert list(excinfo.value.fields) == ["coupon_code"]
    db.rollback()
    assert second.attempt_count == 0 and second.state is S.OPEN
    services.abandon_checkout(db, first)  # the unpaid session gives its redemption back
    assert not first.coupon_reserved and _redemptions(db, coupon.id) == 0
    services.release_coupon(db, first)  # once only
    assert _redemptions(db, coupon.id) == 0


# ---------------------------------------------------------------- expiry


def _due(db, session, minutes=-1):
    session.expires_at = utcnow() + timedelta(minutes=minutes)
    db.flush()
    return session


def test_expire_due_sessions_only_past_due_and_unfinished(db, store):
    page = make_page(db, store, publish=True)
    coupon = make_coupon(db, store, code="HOLD")
    due = {state: _due(db, force_state(db, payable_checkout(db, page), state)) for state in
           (S.OPEN, S.PROCESSING, S.AWAITING_ACTION)}
    due[S.PROCESSING].coupon_id, due[S.PROCESSING].coupon_reserved = coupon.id, True
    db.add(CouponHold(checkout_session_id=due[S.PROCESSING].id, coupon_id=coupon.id))
    coupon.redemption_count = 1
    finished = [_due(db, force_state(db, payable_checkout(db, page), state)) for state in
                (S.COMPLETED, S.EXPIRED, S.ABANDONED)]
    fresh = _due(db, payable_checkout(db, page), minutes=5)
    db.commit()

    assert services.expire_due_checkouts(db, batch_size=2) == 3
    db.commit()
    db.expire_all()
    for session in due.values():
        assert session.state is S.EXPIRED and session.transitions[-1].event == "TIMEOUT"
    assert [s.state for s in finished] == [S.COMPLETED, S.EXPIRED, S.ABANDONED]
    assert fresh.state is S.OPEN
    assert not due[S.PROCESSING].coupon_reserved and _redemptions(db, coupon.id) == 0
    assert services.expire_due_checkouts(db) == 0


def test_expiry_task_runs_every_minute(db, store):
    session = _due(db, payable_checkout(db, make_page(db, store, publish=True)))
    db.commit()
    assert expire_checkouts.call_local() == 1
    db.expire_all()
    assert session.state is S.EXPIRED
    schedule = expire_checkouts.task_class()
    assert all(schedule.validate_datetime(datetime(2024, 1, 1, 3, minute)) for minute in (0, 7, 59))


def test_expiry_skips_sessions_another_transaction_holds(app, db, store):
    page = make_page(db, store, publish=True)
    held = _due(db, payable_checkout(db, page))
    free = _due(db, payable_checkout(db, page))
    db.commit()
    held_id, free_id = held.id, free.id
    locked, release = threading.Event(), threading.Event()

    def hold():
        with app.app_context():
            _db.session.execute(sa.select(CheckoutSession).where(CheckoutSession.id == held_id).with_for_update())
            locked.set()
            release.wait(10)
            _db.session.rollback()
            _db.session.remove()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        assert services.expire_due_checkouts(db) == 1
        db.commit()
    finally:
        release.set()
        thread.join()
    db.expire_all()
    assert db.get(CheckoutSession, free_id).state is S.EXPIRED
    assert db.get(CheckoutSession, held_id).state is S.OPEN
