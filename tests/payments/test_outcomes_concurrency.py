"""The same outcome delivered many times at once (sync answer + webhook retries + duplicates)
has the effect of one: one payment, one credit, one receipt, one transition."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.catalog.models import Coupon, PageStats
from checkie.checkout.models import CheckoutSessionTransition, CheckoutState
from checkie.customers.models import Customer
from checkie.notifications.models import EmailMessage
from checkie.payments import outcomes
from checkie.payments.models import BalanceTransaction, Payment, StoreBalance
from tests.concurrency import run_concurrently
from tests.factories import make_checkout, make_coupon, make_page, start_attempt
from tests.ledger import assert_ledger_consistent

THREADS = 20
#: Each of these sends a receipt, which immediate-mode Huey sends inside the committing thread on a
#: second connection; 20 such threads would exhaust the test pool (5 + 10) and wait on each other.
SENDING_THREADS = 10


def _count(db, model, *where) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_concurrent_duplicate_successes_record_one_payment(app, db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    db.commit()
    intent_id, checkout_id, page_id, store_id = attempt.provider_intent_id, checkout.id, page.id, store.id

    def deliver(session, _index):
        payment = outcomes.payment_succeeded(session, provider="test", intent_id=intent_id, amount=1000,
                                             currency="usd", metadata={"checkout_session_id": checkout_id})
        return payment.id

    ids = run_concurrently(app, THREADS, deliver)

    assert len(set(ids)) == 1
    assert _count(db, Payment) == 1
    assert _count(db, BalanceTransaction) == 2
    assert assert_ledger_consistent(db, store_id, "USD") == 971
    assert _count(db, EmailMessage, EmailMessage.kind == "receipt") == 1
    assert _count(db, EmailMessage, EmailMessage.kind == "payment_review") == 0
    assert _count(db, Customer) == 1
    assert _count(db, CheckoutSessionTransition, CheckoutSessionTransition.session_id == checkout_id) == 1
    stats = db.get(PageStats, page_id, populate_existing=True)
    assert (stats.conversions, stats.revenue) == (1, 1000)


def test_concurrent_successes_of_many_sessions_keep_the_ledger_whole(app, db, store):
    """Different payments of one store at once: every one credited, the chain unbroken, and one
    customer for the shared email address."""
    page = make_page(db, store, amount=1000, publish=True)
    intents = []
    for _ in range(SENDING_THREADS):
        intents.append(start_attempt(db, make_checkout(db, page, email="repeat@example.com")).provider_intent_id)
    db.commit()

    run_concurrently(app, SENDING_THREADS, lambda session, index: outcomes.payment_succeeded(
        session, provider="test", intent_id=intents[index], amount=1000, currency="usd", metadata={}).id)

    assert _count(db, Payment) == SENDING_THREADS
    assert assert_ledger_consistent(db, store.id, "USD") == SENDING_THREADS * 971
    assert db.get(StoreBalance, (store.id, "USD")).last_sequence == 2 * SENDING_THREADS
    assert _count(db, Customer) == 1
    assert _count(db, Payment, Payment.customer_id.is_(None)) == 0


def test_concurrent_duplicate_failures_apply_once(app, db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page, coupon=make_coupon(db, store, code="TEN"))
    attempt = start_attempt(db, checkout)
    holder = make_checkout(db, page)
    holder.coupon_id = checkout.coupon_id
    start_attempt(db, holder)  # a second reservation, so a double release would show
    db.commit()
    intent_id, checkout_id, coupon_id = attempt.provider_intent_id, checkout.id, checkout.coupon_id

    run_concurrently(app, THREADS, lambda session, _: outcomes.payment_failed(
        session, provider="test", intent_id=intent_id, code="card_declined", message=None))

    db.expire_all()
    assert db.get(Coupon, coupon_id).redemption_count == 1
    assert _count(db, CheckoutSessionTransition, CheckoutSessionTransition.session_id == checkout_id) == 1
    db.refresh(checkout)
    assert checkout.state is CheckoutState.OPEN


def test_success_racing_failure_of_the_same_intent_never_loses_money(app, db, store):
    """Whichever lands first, the captured money ends up recorded and credited exactly once."""
    page = make_page(db, store, amount=1000, publish=True)
    attempt = start_attempt(db, make_checkout(db, page))
    db.commit()
    intent_id = attempt.provider_intent_id

    def deliver(session, index):
        if index % 2:
            outcomes.payment_failed(session, provider="test", intent_id=intent_id, code="card_declined", message=None)
        else:
            outcomes.payment_succeeded(session, provider="test", intent_id=intent_id, amount=1000, currency="usd",
                                       metadata={})

    run_concurrently(app, 10, deliver)
    assert _count(db, Payment) == 1
    assert assert_ledger_consistent(db, store.id, "USD") == 971
    assert _count(db, EmailMessage, EmailMessage.kind == "receipt") == 1
