"""Payouts (SPEC §3 Payout, §5): a request checks the balance under the balance row's lock and
writes the `payout` row; the task pays through the provider exactly once, or reverses the row."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.payments import ledger, payouts, reports
from checkie.payments.models import Payout, PayoutAccount, PayoutStatus, TransactionType
from checkie.providers.test import TestProvider
from checkie.providers.test_payouts import NO_ACCOUNT, PAID_ACCOUNT, TEST_ROUTING_NUMBER, TestProviderPayout
from tests.concurrency import run_concurrently
from tests.emails import emails_to
from tests.factories import add_ledger_entry
from tests.ledger import assert_ledger_consistent, ledger_rows

PAYOUT, REVERSAL = TransactionType.PAYOUT, TransactionType.PAYOUT_REVERSAL


def _fund(db, store, amount: int = 10_000, currency: str = "USD") -> None:
    add_ledger_entry(db, store, currency, TransactionType.PAYMENT, amount)
    db.commit()


def _bank(db, store, account_number: str = PAID_ACCOUNT) -> PayoutAccount:
    account = payouts.set_payout_account(db, store, account_holder_name="Ada Lovelace", routing_number=TEST_ROUTING_NUMBER,
                                         account_number=account_number)
    db.commit()
    return account


def _request(db, store, amount: int, currency: str = "USD") -> Payout:
    """Request and commit; Huey runs in immediate mode here, so the task has run on return."""
    payout = payouts.request_payout(db, store, amount=amount, currency=currency)
    db.commit()
    db.refresh(payout)
    return payout


def test_a_payout_to_the_paid_test_account_is_paid_with_its_ledger_row_event_and_email(db, store):
    _fund(db, store)
    _bank(db, store)

    payout = _request(db, store, 4_000)

    assert payout.status is PayoutStatus.PAID
    assert payout.paid_at is not None and payout.provider_payout_id.startswith("po_test_")
    assert [(row.type, row.amount, row.payout_id) for row in ledger_rows(db, store.id, "USD")][1:] == [
        (PAYOUT, -4_000, payout.id)]
    assert assert_ledger_consistent(db, store.id, "USD") == 6_000
    assert [m.subject for m in emails_to(db, store.owner.email, "payout_paid")] == [
        "Acme Goods: payout of $40.00 paid"]


def test_a_failing_account_fails_the_payout_and_reverses_its_ledger_row(db, store):
    _fund(db, store)
    _bank(db, store, NO_ACCOUNT)

    payout = _request(db, store, 10_000)

    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "no_account")
    assert [(row.type, row.amount) for row in ledger_rows(db, store.id, "USD")][1:] == [(PAYOUT, -10_000), (REVERSAL, 10_000)]
    assert assert_ledger_consistent(db, store.id, "USD") == 10_000
    assert len(emails_to(db, store.owner.email, "payout_failed")) == 1


def test_a_request_without_a_bank_account_is_refused_and_writes_nothing(db, store):
    _fund(db, store)

    with pytest.raises(payouts.PayoutRefused) as refused:
        payouts.request_payout(db, store, amount=1_000, currency="USD")

    assert (refused.value.code, refused.value.status) == ("no_payout_account", 422)
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0
    assert assert_ledger_consistent(db, store.id, "USD") == 10_000


@pytest.mark.parametrize(("minimum", "amount", "refused"), [("1.00", 99, True), ("1.00", 100, False), ("5.00", 499, True)])
def test_a_payout_below_the_minimum_is_refused(app, db, store, monkeypatch, minimum, amount, refused):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM", Decimal(minimum))
    _fund(db, store)
    _bank(db, store)

    if not refused:
        assert _request(db, store, amount).status is PayoutStatus.PAID
        return
    with pytest.raises(payouts.PayoutRefused) as error:
        payouts.request_payout(db, store, amount=amount, currency="USD")
    assert error.value.code == "below_minimum"


def test_more_than_the_available_balance_is_refused(db, store):
    _fund(db, store, 5_000)
    _bank(db, store)

    with pytest.raises(payouts.PayoutRefused) as refused:
        payouts.request_payout(db, store, amount=5_001, currency="USD")

    assert refused.value.code == "insufficient_balance"
    with pytest.raises(payouts.PayoutRefused):  # no ledger at all in that currency
        payouts.request_payout(db, store, amount=100, currency="EUR")


def test_100_concurrent_requests_of_1000_on_10000_pay_out_exactly_10_and_leave_zero(app, db, store, monkeypatch):
    _fund(db, store)
    _bank(db, store)
    store_id = store.id
    # Huey's immediate mode would run each task inside its request's thread, holding a second
    # and third pooled connection there; the sweeper pays them afterwards instead.
    monkeypatch.setattr(payouts, "enqueue_after_commit", lambda *args: None)

    def request(session, _index):
        from checkie.stores.models import Store

        try:
            payouts.request_payout(session, session.get_one(Store, store_id), amount=1_000, currency="USD")
        except payouts.PayoutRefused as refused:
            assert refused.code == "insufficient_balance"
            return False
        return True

    results = run_concurrently(app, 100, request)

    assert results.count(True) == 10
    assert assert_ledger_consistent(db, store_id, "USD") == 0
    payouts.sweep_payouts.call_local()
    statuses = db.scalars(sa.select(Payout.status)).all()
    assert statuses == [PayoutStatus.PAID] * 10


def test_the_task_run_five_times_pays_once(db, store):
    _fund(db, store)
    _bank(db, store)
    payout = _request(db, store, 3_000)

    for _ in range(4):
        payouts.process_payout_task(payout.id)
        assert payouts.process_payout(db, payout.id, now=utcnow() + payouts.LEASE * 2) is None

    db.refresh(payout)
    assert (payout.status, payout.attempts) == (PayoutStatus.PAID, 1)
    assert db.scalar(sa.select(sa.func.count()).select_from(TestProviderPayout)) == 1
    assert [row.type for row in ledger_rows(db, store.id, "USD")].count(PAYOUT) == 1
    assert assert_ledger_consistent(db, store.id, "USD") == 7_000


def test_a_worker_that_dies_after_the_provider_paid_is_followed_by_a_rerun_that_pays_nothing_more(db, store, monkeypatch):
    _fund(db, store)
    _bank(db, store)
    pay = TestProvider.create_payout

    def pay_then_die(self, **call):
        pay(self, **call)
        raise SystemError("the worker died after the provider answered")

    monkeypatch.setattr(TestProvider, "create_payout", pay_then_die)
    payout = _request(db, store, 3_000)
    assert (payout.status, payout.attempts) == (PayoutStatus.PROCESSING, 1)
    first = db.scalar(sa.select(TestProviderPayout))
    monkeypatch.setattr(TestProvider, "create_payout", pay)

    assert payouts.process_payout(db, payout.id) is None  # its lease still runs
    assert payouts.due_payout_ids(db) == []
    rerun = payouts.process_payout(db, payout.id, now=utcnow() + payouts.LEASE + timedelta(seconds=1))

    assert rerun is not None and (rerun.status, rerun.attempts) == (PayoutStatus.PAID, 2)
    assert rerun.provider_payout_id == first.payout_id
    assert db.scalar(sa.select(sa.func.count()).select_from(TestProviderPayout)) == 1
    assert assert_ledger_consistent(db, store.id, "USD") == 7_000


def test_the_sweeper_picks_up_a_payout_whose_task_was_lost(db, store, monkeypatch):
    _fund(db, store)
    _bank(db, store)
    monkeypatch.setattr(payouts, "enqueue_after_commit", lambda *args: None)  # the queue lost it
    payout = _request(db, store, 2_000)
    assert payout.status is PayoutStatus.REQUESTED

    payouts.sweep_payouts.call_local()

    db.refresh(payout)
    assert payout.status is PayoutStatus.PAID


def test_the_account_number_is_stored_encrypted_and_shown_as_last4(db, store):
    account = _bank(db, store)

    raw = db.execute(sa.text("SELECT account_number_encrypted FROM payout_accounts")).scalar_one()
    assert PAID_ACCOUNT not in raw and "123456789" not in raw
    assert (account.last4, account.routing_number, account.holder_name) == ("6789", TEST_ROUTING_NUMBER, "Ada Lovelace")


@pytest.mark.parametrize(("fields", "wrong"), [
    ({"account_holder_name": " ", "routing_number": "11000000", "account_number": "123"},
     {"account_holder_name", "routing_number", "account_number"}),
    ({"account_holder_name": "A" * 201, "routing_number": "11000000a", "account_number": "1" * 18},
     {"account_holder_name", "routing_number", "account_number"}),
    ({"account_holder_name": None, "routing_number": 110000000, "account_number": ["000123456789"]},
     {"account_holder_name", "routing_number", "account_number"}),
])
def test_a_bank_account_with_wrong_fields_is_refused_field_by_field(db, store, fields, wrong):
    with pytest.raises(ValidationFailed) as refused:
        payouts.set_payout_account(db, store, **fields)

    assert set(refused.value.fields) == wrong
    assert payouts.payout_account(db, store) is None


def test_the_balance_lock_reads_zero_before_a_currency_has_a_ledger(db, store):
    assert ledger.lock_balance(db, store.id, "EUR") == 0


def test_the_balance_report_counts_payouts_less_their_reversals_apart_from_net(db, store):
    _fund(db, store)
    _bank(db, store)
    _request(db, store, 4_000)
    _bank(db, store, NO_ACCOUNT)
    _request(db, store, 1_000)
    today = utcnow().date()

    (row,) = reports.balance_report(db, store.id, period=reports.Period.DAY, date_from=today, date_to=today)

    assert (row.gross, row.refunds, row.payouts, row.net) == (10_000, 0, 4_000, 10_000)
