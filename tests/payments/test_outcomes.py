"""payments.outcomes (SPEC §3, §4): a success records the payment, credits the ledger, finds the
customer, counts the conversion, sends one receipt and completes the session; money captured
for a session that cannot take it is recorded all the same and flagged for review; failures
and 3DS requests move the session through the state table; every outcome is idempotent."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.catalog.models import Coupon, PageStats
from checkie.checkout.models import (
    CheckoutSession,
    CheckoutSessionTransition,
    CheckoutState,
)
from checkie.customers.models import Customer
from checkie.notifications.models import EmailMessage
from checkie.payments import outcomes
from checkie.payments.models import (
    AttemptStatus,
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    StoreBalance,
    TransactionType,
)
from tests.factories import make_checkout, make_coupon, make_customer, make_page, start_attempt
from tests.ledger import assert_ledger_consistent

S = CheckoutState
#: A variant whose options cost nothing extra: the receipt names the one chosen.
COLOURS = {"Colour": {"Natural": 0, "Indigo": 0}}


def succeed(db, attempt: PaymentAttempt, *, amount: int | None = None, currency: str = "usd"):
    return outcomes.payment_succeeded(
        db, provider=attempt.provider, intent_id=attempt.provider_intent_id,
        amount=attempt.amount if amount is None else amount, currency=currency,
        metadata={"checkout_session_id": attempt.session_id},
    )


def fail(db, attempt: PaymentAttempt, code: str = "card_declined") -> None:
    outcomes.payment_failed(db, provider=attempt.provider, intent_id=attempt.provider_intent_id,
                            code=code, message="Your card was declined.")


def emails(db, kind: str) -> list[EmailMessage]:
    return list(db.scalars(sa.select(EmailMessage).where(EmailMessage.kind == kind).order_by(EmailMessage.id)))


def count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def events(db, checkout: CheckoutSession) -> list[tuple[str, str, str]]:
    rows = db.scalars(sa.select(CheckoutSessionTransition).where(CheckoutSessionTransition.session_id == checkout.id)
                      .order_by(CheckoutSessionTransition.id))
    return [(row.from_state.value, row.event, row.to_state.value) for row in rows]


def test_success_records_credits_and_completes(db, store):
    page = make_page(db, store, title="Linen tote bag", amount=1050, variants=COLOURS, publish=True)
    checkout = make_checkout(db, page, email="Shopper@Example.com", options={"Colour": "Indigo"})
    attempt = start_attempt(db, checkout)
    db.commit()

    payment = succeed(db, attempt)
    db.commit()

    assert (payment.store_id, payment.session_id, payment.page_id) == (store.id, checkout.id, page.id)
    assert (payment.amount, payment.fee, payment.net, payment.currency) == (1050, 30, 1020, "USD")
    assert (payment.provider, payment.provider_payment_id) == ("test", attempt.provider_intent_id)
    assert payment.email == "shopper@example.com"
    assert payment.needs_review is False and payment.review_reason is None
    rows = db.scalars(sa.select(BalanceTransaction).order_by(BalanceTransaction.sequence)).all()
    assert [(r.type, r.amount, r.balance_after, r.payment_id) for r in rows] == [
        (TransactionType.PAYMENT, 1050, 1050, payment.id), (TransactionType.FEE, -30, 1020, payment.id),
    ]
    assert assert_ledger_consistent(db, store.id, "USD") == 1020
    customer = db.scalars(sa.select(Customer)).one()
    assert (customer.store_id, customer.email, customer.name) == (store.id, "shopper@example.com", "Sam Shopper")
    assert payment.customer_id == customer.id
    db.refresh(checkout)
    db.refresh(attempt)
    assert checkout.customer_id == customer.id
    assert checkout.state is S.COMPLETED and checkout.completed_at is not None
    assert events(db, checkout)[-1] == ("processing", "PAYMENT_SUCCEEDED", "completed")
    assert attempt.status is AttemptStatus.SUCCEEDED
    stats = db.get(PageStats, page.id, populate_existing=True)
    assert (stats.conversions, stats.revenue) == (1, 1050)
    assert emails(db, "payment_review") == []


def test_receipt_says_what_was_bought(db, store):
    page = make_page(db, store, title="Linen tote bag", amount=1050, variants=COLOURS, publish=True)
    checkout = make_checkout(db, page, email="Shopper@Example.com", options={"Colour": "Indigo"})
    attempt = start_attempt(db, checkout)
    db.commit()
    payment = succeed(db, attempt)
    db.commit()

    [receipt] = emails(db, "receipt")
    assert receipt.to_address == "shopper@example.com"
    assert receipt.subject == "Your receipt from Acme Goods"
    for body in (receipt.text_body, receipt.html_body):
        assert "Linen tote bag" in body and "Colour" in body and "Indigo" in body and "Natural" not in body
        assert "$10.50" in body and "Acme Goods" in body and f"#{payment.id}" in body
        assert "Sam Shopper" in body


def test_success_reuses_a_known_customer_and_keeps_the_coupon_redeemed(db, store):
    page = make_page(db, store, amount=2000, publish=True)
    make_customer(db, store, email="shopper@example.com", name=None)
    checkout = make_checkout(db, page, email="SHOPPER@example.com ", coupon=make_coupon(db, store, code="TEN"))
    attempt = start_attempt(db, checkout)
    db.commit()
    payment = succeed(db, attempt)
    db.commit()
    customer = db.scalars(sa.select(Customer)).one()
    assert payment.customer_id == customer.id and customer.name == "Sam Shopper"
    coupon = db.scalars(sa.select(Coupon)).one()
    db.refresh(checkout)
    assert checkout.state is S.COMPLETED
    assert coupon.redemption_count == 1 and checkout.coupon_reserved is True


def test_a_repeated_success_changes_nothing(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    attempt = start_attempt(db, make_checkout(db, page))
    db.commit()
    first = succeed(db, attempt)
    db.commit()
    for _ in range(3):
        again = succeed(db, attempt)
        db.commit()
        assert again.id == first.id
    assert count(db, Payment) == 1 and count(db, BalanceTransaction) == 2
    assert len(emails(db, "receipt")) == 1
    stats = db.get(PageStats, page.id, populate_existing=True)
    assert (stats.conversions, stats.revenue) == (1, 1000)
    assert db.get(StoreBalance, (store.id, "USD")).available == 1000 - 29


def test_success_after_the_session_expired_is_kept_for_review(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    checkout.state = S.EXPIRED  # the expiry task won the race
    db.commit()

    payment = succeed(db, attempt)
    db.commit()

    assert payment.needs_review is True and payment.review_reason == "session already expired"
    assert db.get(StoreBalance, (store.id, "USD")).available == 971
    assert count(db, BalanceTransaction) == 2
    db.refresh(checkout)
    assert checkout.state is S.EXPIRED and events(db, checkout) == []
    assert attempt.status is AttemptStatus.SUCCEEDED
    [review] = emails(db, "payment_review")
    assert review.to_address == "owner@example.com"
    assert "session already expired" in review.text_body and "$10.00" in review.text_body
    assert f"/dashboard/stores/{store.id}/payments/{payment.id}" in review.text_body
    assert len(emails(db, "receipt")) == 1  # the shopper paid: they get their receipt
    stats = db.get(PageStats, page.id, populate_existing=True)
    assert (stats.conversions, stats.revenue) == (0, 0)  # conversions count completed checkouts
    assert succeed(db, attempt).id == payment.id
    db.commit()
    assert len(emails(db, "payment_review")) == 1


def test_success_for_a_different_amount_is_kept_for_review(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    db.commit()

    payment = succeed(db, attempt, amount=1200)
    db.commit()

    assert payment.needs_review is True
    assert payment.review_reason == "amount 1200 USD does not match the session total 1000 USD"
    assert (payment.amount, payment.fee, payment.net) == (1200, 35, 1165)  # 34.8 → 35
    assert db.get(StoreBalance, (store.id, "USD")).available == 1165
    db.refresh(checkout)
    assert checkout.state is S.PROCESSING
    [review] = emails(db, "payment_review")
    assert "does not match" in review.text_body and "$12.00" in review.text_body


def test_success_in_another_currency_is_kept_for_review(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    attempt = start_attempt(db, make_checkout(db, page))
    db.commit()
    payment = succeed(db, attempt, currency="eur")
    db.commit()
    assert payment.currency == "EUR" and payment.needs_review is True
    assert payment.review_reason == "amount 1000 EUR does not match the session total 1000 USD"
    assert db.get(StoreBalance, (store.id, "EUR")).available == 971
    assert db.get(StoreBalance, (store.id, "USD")) is None


def test_success_for_an_unknown_intent_is_ignored(db, store):
    assert outcomes.payment_succeeded(db, provider="test", intent_id="pi_nobody", amount=1000, currency="usd",
                                      metadata={}) is None
    outcomes.payment_failed(db, provider="test", intent_id="pi_nobody", code="card_declined", message=None)
    outcomes.payment_requires_action(db, provider="test", intent_id="pi_nobody", next_action_url=None)
    db.commit()
    assert count(db, Payment) == 0 and count(db, BalanceTransaction) == 0 and count(db, EmailMessage) == 0


def test_an_intent_of_another_provider_is_not_matched(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    attempt = start_attempt(db, make_checkout(db, page))
    db.commit()
    assert outcomes.payment_succeeded(db, provider="stripe", intent_id=attempt.provider_intent_id, amount=1000,
                                      currency="usd", metadata={}) is None
    assert count(db, Payment) == 0


def test_three_failures_expire_the_session_and_release_the_coupon(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page, coupon=make_coupon(db, store, code="TEN"))
    coupon_id = checkout.coupon_id
    expected = [S.OPEN, S.OPEN, S.EXPIRED]
    for number, state in enumerate(expected, start=1):
        attempt = start_attempt(db, checkout)
        db.commit()
        assert db.get(Coupon, coupon_id).redemption_count == 1
        fail(db, attempt)
        db.commit()
        db.refresh(checkout)
        db.refresh(attempt)
        assert checkout.state is state, number
        assert (attempt.status, attempt.failure_code) == (AttemptStatus.FAILED, "card_declined")
        assert attempt.failure_message == "Your card was declined."
        assert checkout.coupon_reserved is False
        assert db.get(Coupon, coupon_id, populate_existing=True).redemption_count == 0
    assert [e[1:] for e in events(db, checkout)] == [("PAYMENT_FAILED", "open")] * 2 + [("PAYMENT_FAILED", "expired")]


def test_a_repeated_failure_releases_the_coupon_once(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    other = make_checkout(db, page, coupon=make_coupon(db, store, code="TEN"))
    start_attempt(db, other)  # holds one redemption of the same coupon
    checkout = make_checkout(db, page)
    checkout.coupon_id = other.coupon_id
    attempt = start_attempt(db, checkout)
    db.commit()
    assert db.get(Coupon, other.coupon_id).redemption_count == 2
    for _ in range(3):
        fail(db, attempt)
        db.commit()
    assert db.get(Coupon, other.coupon_id, populate_existing=True).redemption_count == 1
    db.refresh(checkout)
    assert checkout.state is S.OPEN and len(events(db, checkout)) == 1


def test_a_failure_after_success_changes_nothing(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page, coupon=make_coupon(db, store, code="TEN"))
    attempt = start_attempt(db, checkout)
    db.commit()
    succeed(db, attempt)
    db.commit()
    fail(db, attempt)
    db.commit()
    db.refresh(checkout)
    db.refresh(attempt)
    assert checkout.state is S.COMPLETED and attempt.status is AttemptStatus.SUCCEEDED
    assert attempt.failure_code is None
    assert db.get(Coupon, checkout.coupon_id, populate_existing=True).redemption_count == 1


def test_a_late_failure_for_a_final_session_only_marks_the_attempt(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    checkout.state = S.ABANDONED
    db.commit()
    fail(db, attempt, code="expired_card")
    db.commit()
    db.refresh(checkout)
    db.refresh(attempt)
    assert checkout.state is S.ABANDONED and events(db, checkout) == []
    assert (attempt.status, attempt.failure_code) == (AttemptStatus.FAILED, "expired_card")


def test_requires_action_then_success_completes(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    db.commit()
    for _ in range(2):
        outcomes.payment_requires_action(db, provider="test", intent_id=attempt.provider_intent_id,
                                         next_action_url="http://localhost/test-provider/3ds/1")
        db.commit()
    db.refresh(checkout)
    db.refresh(attempt)
    assert checkout.state is S.AWAITING_ACTION
    assert attempt.status is AttemptStatus.REQUIRES_ACTION
    assert attempt.next_action_url == "http://localhost/test-provider/3ds/1"
    assert events(db, checkout) == [("processing", "REQUIRES_ACTION", "awaiting_action")]

    payment = succeed(db, attempt)
    db.commit()
    db.refresh(checkout)
    assert checkout.state is S.COMPLETED and payment.needs_review is False
    assert events(db, checkout)[-1] == ("awaiting_action", "PAYMENT_SUCCEEDED", "completed")
    # A requires_action event delivered after the success changes nothing.
    outcomes.payment_requires_action(db, provider="test", intent_id=attempt.provider_intent_id, next_action_url=None)
    db.commit()
    db.refresh(attempt)
    assert attempt.status is AttemptStatus.SUCCEEDED


def test_failed_authentication_reopens_the_session(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page, coupon=make_coupon(db, store, code="TEN"))
    attempt = start_attempt(db, checkout)
    outcomes.payment_requires_action(db, provider="test", intent_id=attempt.provider_intent_id, next_action_url="x")
    db.commit()
    fail(db, attempt, code="authentication_failed")
    db.commit()
    db.refresh(checkout)
    db.refresh(attempt)
    assert checkout.state is S.OPEN and attempt.status is AttemptStatus.FAILED and attempt.next_action_url is None
    assert events(db, checkout)[-1] == ("awaiting_action", "ACTION_FAILED", "open")
    assert db.get(Coupon, checkout.coupon_id, populate_existing=True).redemption_count == 0


def test_requires_action_for_a_final_session_only_marks_the_attempt(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    checkout = make_checkout(db, page)
    attempt = start_attempt(db, checkout)
    checkout.state = S.EXPIRED
    db.commit()
    outcomes.payment_requires_action(db, provider="test", intent_id=attempt.provider_intent_id, next_action_url="x")
    db.commit()
    db.refresh(checkout)
    assert checkout.state is S.EXPIRED and events(db, checkout) == []


def test_a_session_without_email_pays_as_its_customer(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    known = make_customer(db, store, email="known@example.com", name="Kim")
    checkout = make_checkout(db, page, email=None, name=None)
    checkout.customer_id = known.id
    attempt = start_attempt(db, checkout)
    db.commit()
    payment = succeed(db, attempt)
    db.commit()
    assert (payment.customer_id, payment.email) == (known.id, "known@example.com")
    assert [e.to_address for e in emails(db, "receipt")] == ["known@example.com"]
    assert count(db, Customer) == 1


def test_a_currency_checkie_does_not_know_is_still_recorded(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    attempt = start_attempt(db, make_checkout(db, page))
    db.commit()
    payment = succeed(db, attempt, currency="xyz")
    db.commit()
    assert (payment.currency, payment.needs_review) == ("XYZ", True)
    assert db.get(StoreBalance, (store.id, "XYZ")).available == 971
    assert "1000 XYZ" in emails(db, "receipt")[0].text_body
