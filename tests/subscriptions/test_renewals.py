"""Renewals on the store's clock (SPEC §5, §8): trials end in a charge, each period is charged
once however often its task runs or dies, and declines go through dunning to `canceled`."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.catalog.models import PageStats
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.payments import ledger
from checkie.payments.models import AttemptStatus, Payment, PaymentAttempt, TransactionType
from checkie.subscriptions import renewals, services
from checkie.subscriptions.models import CancellationReason, RenewalStatus, SubscriptionStatus
from tests.concurrency import run_concurrently
from tests.ledger import assert_ledger_consistent, ledger_rows
from tests.subscriptions.helpers import (
    DAY,
    ChargeRecorder,
    emails,
    move_clock,
    open_renewal,
    payments_of,
    renewals_of,
    subscribe,
)


def test_a_trial_completes_without_a_payment_and_turns_active_with_the_first_charge_at_its_end(db, store):
    subscription = subscribe(db, store, amount=900, interval="month", trial_days=14)

    checkout = db.get(CheckoutSession, subscription.checkout_session_id)
    [attempt] = db.scalars(sa.select(PaymentAttempt).where(PaymentAttempt.session_id == checkout.id))
    stats = db.get(PageStats, subscription.page_id)
    assert (checkout.state, checkout.trial_days, checkout.due_now, checkout.total) == (CheckoutState.COMPLETED, 14, 0, 900)
    assert (attempt.status, attempt.amount, attempt.provider_intent_id[:5]) == (AttemptStatus.SUCCEEDED, 0, "seti_")
    assert (stats.conversions, stats.revenue) == (1, 0)
    assert payments_of(db, subscription) == [] and ledger_rows(db, store.id, "USD") == []
    assert subscription.status is SubscriptionStatus.TRIALING
    assert subscription.trial_end == subscription.started_at + 14 * DAY == subscription.current_period_end
    assert open_renewal(db, subscription).due_at == subscription.trial_end
    assert len(emails(db, "subscription_trial_started")) == 1

    assert renewals.advance_clock(db, store, days=13)[1] == 0
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.TRIALING

    assert renewals.advance_clock(db, store, days=1)[1] == 1
    db.refresh(subscription)
    [payment] = payments_of(db, subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert (payment.amount, payment.currency, payment.created_at) == (900, "USD", subscription.trial_end)
    assert subscription.current_period_start == subscription.trial_end
    assert [event.kind for event in services.timeline(db, subscription)] == ["created", "trial_ended"]
    assert len(emails(db, "receipt")) == 1


def test_two_renewals_make_three_payments_each_with_its_ledger_rows(db, store):
    subscription = subscribe(db, store, amount=900, interval="month")
    # Two months are 59 to 62 days, three at least 89: exactly two renewals fall in 62 days.
    assert renewals.advance_clock(db, store, days=62)[1] == 2

    payments = payments_of(db, subscription)
    assert [payment.amount for payment in payments] == [900, 900, 900]
    assert payments[0].session_id == subscription.checkout_session_id
    assert len({payment.provider_payment_id for payment in payments}) == 3
    rows = ledger_rows(db, store.id, "USD")
    assert [(row.type, row.amount, row.payment_id) for row in rows] == [
        entry for payment in payments for entry in (
            (TransactionType.PAYMENT, 900, payment.id), (TransactionType.FEE, -ledger.fee_for(900), payment.id))
    ]
    assert assert_ledger_consistent(db, store.id, "USD") == 3 * (900 - ledger.fee_for(900))
    [settled_first, settled_second, scheduled] = renewals_of(db, subscription)
    assert (settled_first.status, settled_second.status, scheduled.status) == (
        RenewalStatus.SUCCEEDED, RenewalStatus.SUCCEEDED, RenewalStatus.SCHEDULED)
    assert [settled_first.payment_id, settled_second.payment_id] == [payments[1].id, payments[2].id]


def test_a_renewal_processed_twice_charges_once(db, store, monkeypatch):
    charges = ChargeRecorder(monkeypatch)
    subscription = subscribe(db, store)
    renewal_id = open_renewal(db, subscription).id
    move_clock(db, store, days=7)

    assert renewals.process_renewal(db, renewal_id) is not None
    assert renewals.process_renewal(db, renewal_id) is None

    assert len(charges.calls) == 1 and len(payments_of(db, subscription)) == 2


def test_two_workers_renewing_at_once_charge_once(app, db, store, monkeypatch):
    charges = ChargeRecorder(monkeypatch)
    subscription = subscribe(db, store)
    renewal_id = open_renewal(db, subscription).id
    move_clock(db, store, days=7)

    results = run_concurrently(app, 2, lambda session, _: renewals.process_renewal(session, renewal_id) is not None)

    assert sorted(results) == [False, True]
    assert len(charges.calls) == 1 and len(payments_of(db, subscription)) == 2
    assert_ledger_consistent(db, store.id, "USD")


def test_a_worker_that_dies_after_the_charge_is_rerun_into_exactly_one_payment(db, store, monkeypatch):
    charges = ChargeRecorder(monkeypatch)
    subscription = subscribe(db, store)
    renewal_id = open_renewal(db, subscription).id
    move_clock(db, store, days=7)
    post_entries = ledger.post_entries
    crashes = []

    def crash_once(*args, **kwargs):
        if not crashes:
            crashes.append(True)
            raise RuntimeError("worker killed before its commit")
        return post_entries(*args, **kwargs)

    monkeypatch.setattr(ledger, "post_entries", crash_once)
    with pytest.raises(RuntimeError):
        renewals.process_renewal(db, renewal_id)
    db.rollback()
    assert len(payments_of(db, subscription)) == 1 and open_renewal(db, subscription).id == renewal_id

    payment = renewals.process_renewal(db, renewal_id)

    [(first_key, first_intent, _), (second_key, second_intent, _)] = charges.calls
    assert first_key == second_key and first_intent == second_intent == payment.provider_payment_id
    assert db.scalar(sa.select(sa.func.count()).where(Payment.provider_payment_id == first_intent)) == 1
    assert len(payments_of(db, subscription)) == 2
    assert assert_ledger_consistent(db, store.id, "USD") == 2 * (1000 - ledger.fee_for(1000))


def test_a_card_that_declines_renewals_is_retried_3_5_and_7_days_after_the_first_failure_then_canceled(db, store):
    subscription = subscribe(db, store, card="pm_card_chargeCustomerFail")
    assert subscription.status is SubscriptionStatus.ACTIVE and len(payments_of(db, subscription)) == 1
    first_due = open_renewal(db, subscription).due_at

    assert renewals.advance_clock(db, store, days=7)[1] == 0
    renewal = open_renewal(db, subscription)
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.PAST_DUE
    assert (renewal.failures, renewal.first_failed_at, renewal.due_at) == (1, first_due, first_due + 3 * DAY)

    steps = [(2, 1, None), (1, 2, 5), (1, 2, None), (1, 3, 7), (1, 3, None)]
    for days, failures, retry_day in steps:
        renewals.advance_clock(db, store, days=days)
        renewal = open_renewal(db, subscription)
        assert renewal.failures == failures
        if retry_day is not None:
            assert renewal.due_at == first_due + retry_day * DAY

    assert renewals.advance_clock(db, store, days=1)[1] == 0
    db.refresh(subscription)
    [renewal] = renewals_of(db, subscription)
    assert (renewal.status, renewal.failures, renewal.failure_code) == (RenewalStatus.FAILED, 4, "card_declined")
    assert subscription.status is SubscriptionStatus.CANCELED
    assert subscription.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert subscription.canceled_at == first_due + 7 * DAY
    assert len(payments_of(db, subscription)) == 1
    failed = emails(db, "subscription_payment_failed")
    retry_dates = [(first_due + days * DAY).strftime("%d %b %Y") for days in (3, 5, 7)]
    assert [message.to_address for message in failed] == ["sam@example.com"] * 3
    assert all(date in message.text_body for message, date in zip(failed, retry_dates))
    [ended] = emails(db, "subscription_canceled")
    assert ended.to_address == "sam@example.com"
    assert renewals.advance_clock(db, store, days=30)[1] == 0
    assert len(renewals_of(db, subscription)) == 1


def test_a_retry_that_goes_through_ends_dunning_and_keeps_the_periods_dates(db, store):
    subscription = subscribe(db, store, card="pm_card_chargeCustomerFail")
    first_due = open_renewal(db, subscription).due_at
    renewals.advance_clock(db, store, days=7)
    db.refresh(subscription)
    subscription.payment_method = "pm_card_visa"  # set-up: the customer's card now pays
    db.commit()

    assert renewals.advance_clock(db, store, days=3)[1] == 1

    db.refresh(subscription)
    [_, recovered] = payments_of(db, subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert (subscription.current_period_start, recovered.created_at) == (first_due, first_due + 3 * DAY)
    assert subscription.current_period_end == first_due + 7 * DAY
    assert services.timeline(db, subscription)[-1].detail["afterFailures"] == 1
    assert len(emails(db, "subscription_payment_failed")) == 1
