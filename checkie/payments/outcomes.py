"""What happens when a PSP tells us how a payment intent ended (SPEC §4, §5).

The same three functions apply the provider's synchronous answer (from
payments.initiation) and its webhook events (payments.intake), so each is
idempotent: the second, third … 200th delivery of one outcome changes nothing.

Locks are taken in one order everywhere — checkout session, then payment attempt, then the
store's balance row (ledger) — the order initiate_payment already holds them in, so a
synchronous answer and a webhook for the same intent queue rather than deadlock. Within
initiate_payment the session is locked already and the attempt is a row this transaction
inserted (remember_new_attempt, kept with checkout.locks): neither is looked up or locked again.

Money that the PSP captured is never dropped: a success for a session that is already final,
or for a different amount or currency than the session's total, is still recorded and
credited, flagged `needs_review`, and the store owner is emailed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from checkie import money
from checkie.catalog import stats
from checkie.checkout import lines, locks
from checkie.checkout import services as checkout_services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.checkout.states import CheckoutEvent
from checkie.customers.models import Customer
from checkie.customers.services import find_or_create_customer, normalize_email
from checkie.database import dialect_insert
from checkie.notifications.services import queue_email
from checkie.payments import ledger
from checkie.payments.models import (
    AttemptStatus,
    Payment,
    PaymentAttempt,
)
from checkie.payments.services import payment_by_provider_id
from checkie.stores.models import Store
from checkie.webhooks.services import record_event

log = logging.getLogger("checkie.payments")

#: What else happens, in the same transaction, when a checkout completes: `listener(db, checkout,
#: attempt, payment)`, with `payment` None for a free trial's saved card. Domains above payments
#: (subscriptions) register here when the app is created, since payments may not import them.
CompletionListener = Callable[[Session, CheckoutSession, PaymentAttempt, "Payment | None"], object]
_completion_listeners: dict[str, CompletionListener] = {}


def on_checkout_completed(name: str, listener: CompletionListener) -> None:
    """Run `listener` for every checkout that completes from now on (registering a name again replaces it)."""
    _completion_listeners[name] = listener


def _completed(db: Session, checkout: CheckoutSession, attempt: PaymentAttempt, payment: Payment | None) -> None:
    for listener in _completion_listeners.values():
        listener(db, checkout, attempt, payment)

_IN_PAYMENT = (CheckoutState.PROCESSING, CheckoutState.AWAITING_ACTION)

#: Load a paid store with its owner, whose address the new-sale (or review) email needs: one
#: query instead of a second one for the owner.
STORE_WITH_OWNER = (joinedload(Store.owner),)
_NEW_ATTEMPT = "new_payment_attempt"


def remember_new_attempt(db: Session, attempt: PaymentAttempt) -> None:
    """`attempt` was inserted by this transaction (invisible to others until commit): outcomes
    for its intent may use it as it is, without a lookup or a lock."""
    locks.hold(db, (_NEW_ATTEMPT, attempt.provider, attempt.provider_intent_id), attempt)


def new_attempt(db: Session, provider: str, intent_id: str) -> PaymentAttempt | None:
    """The attempt for this intent if this transaction inserted it (`remember_new_attempt`)."""
    attempt = locks.held(db, (_NEW_ATTEMPT, provider, intent_id))
    return attempt if isinstance(attempt, PaymentAttempt) else None


def payment_succeeded(
    db: Session, *, provider: str, intent_id: str, amount: int, currency: str, metadata: dict
) -> Payment | None:
    """Record captured money (`amount` minor units of `currency`, any case) once per intent:
    the Payment, ledger rows `payment` (+amount) and `fee` (−fee), the customer, the receipt
    and the `payment.completed` webhook event; then complete the session, or flag the payment for review when the session
    cannot take it. A repeated call returns the payment already recorded and does nothing
    else. None (logged) for an intent Checkie never created."""
    if new_attempt(db, provider, intent_id) is None:
        # The common repeat (the PSP's event after the synchronous answer, retries): a recorded
        # payment is never removed, so finding it needs no lock, and nothing else happens.
        recorded = payment_by_provider_id(db, provider, intent_id)
        if recorded is not None:
            _check_metadata_store(provider, intent_id, metadata, recorded.store_id)
            return recorded
    found = _locked(db, provider, intent_id)
    if found is None:
        return None
    checkout, attempt = found
    _check_metadata_store(provider, intent_id, metadata, checkout.store_id)
    # A payment is recorded in the transaction that marks its attempt succeeded, so only a
    # succeeded attempt can have one (the insert below still refuses a second one).
    if attempt.status is AttemptStatus.SUCCEEDED or amount <= 0:
        existing = payment_by_provider_id(db, provider, intent_id)
        if existing is not None:
            return existing
    if amount <= 0:
        log.error("ignoring a success of %s for intent %s/%s", amount, provider, intent_id)
        return None
    return _record_payment(db, checkout, attempt, provider=provider, intent_id=intent_id, amount=amount, currency=currency)


def _record_payment(
    db: Session, checkout: CheckoutSession, attempt: PaymentAttempt, *,
    provider: str, intent_id: str, amount: int, currency: str,
) -> Payment | None:
    """The first success of a locked attempt: the Payment (with its line, frozen), the session's
    completion (or the review flag), the receipt and the owner's new-sale email, then the
    counters and the ledger."""
    # Set before the first statement below flushes, so the attempt's pending changes (its
    # intent id, on the synchronous path) and this one go out as one UPDATE.
    attempt.status = AttemptStatus.SUCCEEDED
    email, customer_id = _customer_of(db, checkout)
    payment = _insert_payment(
        db, checkout, provider=provider, intent_id=intent_id, amount=amount, currency=currency,
        email=email, customer_id=customer_id,
    )
    if payment is None:  # a concurrent delivery recorded it first (and credited it)
        return payment_by_provider_id(db, provider, intent_id)
    # Only now: the session's UPDATE then carries this together with its completion.
    checkout.customer_id = customer_id
    reason = _complete_checkout(db, checkout, payment)
    store = db.get_one(Store, payment.store_id, options=STORE_WITH_OWNER)
    if reason is not None:
        _flag_for_review(db, store, checkout, payment, reason)
    else:
        _completed(db, checkout, attempt, payment)
    queue_receipt(db, store, payment, name=checkout.name)
    _queue_new_sale(db, store, payment)
    record_event(db, store.id, "payment.completed", payment)
    _credit(db, checkout, payment, converted=reason is None)
    return payment


def setup_succeeded(db: Session, *, provider: str, intent_id: str, metadata: dict) -> None:
    """The PSP saved the shopper's card for a subscription's free trial (a setup intent: no
    money moved). The first such news completes the session (its total is due at the trial's
    end) and starts the subscription; repeats, and news for a session that cannot complete any
    more, change nothing (nothing was captured, so nothing is lost)."""
    found = _locked(db, provider, intent_id)
    if found is None:
        return
    checkout, attempt = found
    _check_metadata_store(provider, intent_id, metadata, checkout.store_id)
    if attempt.status in (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED):
        return
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.next_action_url = None
    if checkout.state not in _IN_PAYMENT:
        log.warning("saved card %s/%s for a %s session %s: nothing to start", provider, intent_id,
                    checkout.state.value, checkout.id)
        db.flush()
        return
    _, checkout.customer_id = _customer_of(db, checkout)
    checkout_services.apply_event(
        db, checkout, CheckoutEvent.PAYMENT_SUCCEEDED, amount=0, currency=checkout.currency,
        detail={"setupIntentId": intent_id},
    )
    _completed(db, checkout, attempt, None)
    stats.record_conversion(db, checkout.page_id, revenue=0)
    db.flush()


def _credit(db: Session, checkout: CheckoutSession, payment: Payment, *, converted: bool) -> None:
    """The page's counters and the store's balance are rows that every payment of the page or
    the store updates, each locked until commit, so concurrent payments queue on them: take them
    at the very end of the transaction. Conversions (and their revenue) count completed checkouts
    only; money flagged for review shows in payments and the balance."""
    if converted:
        stats.record_conversion(db, checkout.page_id, revenue=payment.amount)
    ledger.credit_payment(db, payment, f"Payment {payment.provider_payment_id}")
    db.flush()


def _check_metadata_store(provider: str, intent_id: str, metadata: dict | None, store_id: int) -> None:
    named_store = (metadata or {}).get("store_id", store_id)
    if str(named_store) != str(store_id):
        log.warning("intent %s/%s: metadata names store %s, its session is store %s",
                    provider, intent_id, named_store, store_id)


def payment_failed(db: Session, *, provider: str, intent_id: str, code: str | None, message: str | None) -> None:
    """The PSP declined the attempt: record why, give back the session's coupon reservation,
    return the session to `open` (a retry left) or `expired` (the third failure) and record the
    `payment.failed` webhook event. Nothing happens for an attempt that already failed or succeeded."""
    found = _locked(db, provider, intent_id)
    if found is None:
        return
    checkout, attempt = found
    if attempt.status in (AttemptStatus.FAILED, AttemptStatus.SUCCEEDED):
        return
    attempt.status = AttemptStatus.FAILED
    attempt.failure_code = (code or "")[:100] or None
    attempt.failure_message = (message or "")[:500] or None
    attempt.next_action_url = None
    if checkout.state != CheckoutState.COMPLETED:  # a completed session's coupon stays redeemed
        checkout_services.release_coupon(db, checkout)
    if checkout.state in _IN_PAYMENT:
        event = CheckoutEvent.PAYMENT_FAILED if checkout.state == CheckoutState.PROCESSING else CheckoutEvent.ACTION_FAILED
        checkout_services.apply_event(db, checkout, event, detail={"attempt": attempt.number, "code": code, "message": message})
    db.flush()
    # No payment exists for a declined attempt: the event carries its session, whose attempts
    # name the failure (as GET …/checkout-sessions/<id> shows it).
    record_event(db, checkout.store_id, "payment.failed", checkout)


def payment_requires_action(db: Session, *, provider: str, intent_id: str, next_action_url: str | None) -> None:
    """The PSP wants the shopper to authenticate (3DS) at `next_action_url`: the attempt and a
    processing session move to requires_action / awaiting_action. Repeats are no-ops, and so
    is a late request for an attempt that already ended."""
    found = _locked(db, provider, intent_id)
    if found is None:
        return
    checkout, attempt = found
    if attempt.status != AttemptStatus.PROCESSING:
        return
    attempt.status = AttemptStatus.REQUIRES_ACTION
    attempt.next_action_url = next_action_url
    if checkout.state != CheckoutState.PROCESSING:
        db.flush()
        return
    checkout_services.apply_event(db, checkout, CheckoutEvent.REQUIRES_ACTION, detail={"attempt": attempt.number})


def _locked(db: Session, provider: str, intent_id: str) -> tuple[CheckoutSession, PaymentAttempt] | None:
    """The attempt for this intent and its session, both locked (session first), re-read so
    that a waiting delivery sees what the one before it committed. An attempt this transaction
    inserted (initiate_payment's synchronous answer) is used as it is: its session is locked
    already and nobody else can see the attempt yet."""
    attempt = new_attempt(db, provider, intent_id)
    if attempt is not None:
        return locks.lock_checkout(db, db.get_one(CheckoutSession, attempt.session_id)), attempt
    checkout = _lock_checkout_of_intent(db, provider, intent_id)
    if checkout is None:
        log.warning("payment outcome for unknown intent %s/%s ignored", provider, intent_id)
        return None
    attempt = db.scalars(
        sa.select(PaymentAttempt)
        .where(PaymentAttempt.provider == provider, PaymentAttempt.provider_intent_id == intent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return checkout, attempt


def _lock_checkout_of_intent(db: Session, provider: str, intent_id: str) -> CheckoutSession | None:
    """The session a PSP payment intent belongs to, locked (None for an unknown intent)."""
    attempt_session = sa.select(PaymentAttempt.session_id).where(
        PaymentAttempt.provider == provider, PaymentAttempt.provider_intent_id == intent_id
    )
    return locks.lock_checkout_where(db, CheckoutSession.id == attempt_session.scalar_subquery())


def _customer_of(db: Session, checkout: CheckoutSession) -> tuple[str | None, int | None]:
    """The payment's email and customer: the session's email makes (or finds) the customer; a
    session that names its customer without an email (is_valid_for_payment allows it) gives
    the payment that customer's email."""
    if checkout.email:
        customer = find_or_create_customer(db, checkout.store_id, email=checkout.email, name=checkout.name)
        return normalize_email(checkout.email), customer.id
    if checkout.customer_id is not None:
        named = db.get(Customer, checkout.customer_id)
        return (named.email if named is not None else None), checkout.customer_id
    return None, None


def _insert_payment(
    db: Session, checkout: CheckoutSession, *, provider: str, intent_id: str, amount: int, currency: str,
    email: str | None, customer_id: int | None,
) -> Payment | None:
    """The new Payment with the session's line frozen on it (checkout.lines), or None when the
    unique (provider, provider_payment_id) says another transaction recorded it: INSERT … ON
    CONFLICT DO NOTHING, which leaves our transaction usable without a savepoint."""
    fee = ledger.fee_for(amount)
    values = dict(
        store_id=checkout.store_id, session_id=checkout.id, page_id=checkout.page_id, customer_id=customer_id,
        amount=amount, fee=fee, net=amount - fee, currency=currency.upper(), provider=provider,
        provider_payment_id=intent_id, email=email, amount_refunded=0, needs_review=False,
        line=lines.current_line(db, checkout),
    )
    statement = (
        dialect_insert(db)(Payment).values(**values)
        .on_conflict_do_nothing(index_elements=["provider", "provider_payment_id"])
        .returning(Payment)
    )
    return db.scalars(statement).one_or_none()


def _complete_checkout(db: Session, checkout: CheckoutSession, payment: Payment) -> str | None:
    """Complete the session with this payment; the reason it needs review when that is not
    possible."""
    reason = _mismatch(checkout, payment)
    if reason is not None:
        return reason
    try:
        # No savepoint needed: apply_event refuses before it changes anything.
        checkout_services.apply_event(
            db, checkout, CheckoutEvent.PAYMENT_SUCCEEDED, amount=payment.amount, currency=payment.currency,
            detail={"paymentId": payment.id, "intentId": payment.provider_payment_id},
        )
    except checkout_services.InvalidTransition as refused:
        return f"the session refused the payment ({refused.message})"[:200]
    return None


def _mismatch(checkout: CheckoutSession, payment: Payment) -> str | None:
    if checkout.state not in _IN_PAYMENT:
        return f"session already {checkout.state.value}"
    if payment.amount != checkout.total or payment.currency != checkout.currency.upper():
        return (f"amount {payment.amount} {payment.currency} does not match the session total "
                f"{checkout.total} {checkout.currency.upper()}")
    return None


def _flag_for_review(db: Session, store: Store, checkout: CheckoutSession, payment: Payment, reason: str) -> None:
    payment.needs_review = True
    payment.review_reason = reason[:200]
    log.warning("payment %s of store %s needs review: %s", payment.id, store.id, reason)
    queue_email(
        db, to=store.owner.email, template="payment_review",
        subject=f"{store.name}: a payment needs your review",
        store_name=store.name, store_id=store.id, payment_id=payment.id, reason=payment.review_reason,
        amount=_formatted(payment), session_id=checkout.id,
        session_state=checkout.state.value, email=payment.email,
    )


def queue_receipt(db: Session, store: Store, payment: Payment, *, name: str | None, **extra) -> None:
    """The buyer's receipt of `payment`, worded from its frozen line; `extra` goes to the template
    (a renewal names its period: `period_start`, `period_end`)."""
    if not payment.email:
        log.info("payment %s has no email address: no receipt", payment.id)
        return
    queue_email(
        db, to=payment.email, template="receipt", subject=f"Your receipt from {store.name}",
        store_name=store.name, **_line_context(payment), amount=_formatted(payment), payment_id=payment.id,
        name=name, paid_at=payment.created_at, **extra,
    )


def _queue_new_sale(db: Session, store: Store, payment: Payment) -> None:
    """Tell the owner what was sold, unless the store's "Email me about each new sale" is off."""
    if not store.notify_new_sale:
        return
    queue_email(
        db, to=store.owner.email, template="new_sale", subject=f"{store.name}: new sale of {_formatted(payment)}",
        store_name=store.name, store_id=store.id, **_line_context(payment), amount=_formatted(payment),
        payment_id=payment.id, email=payment.email, needs_review=payment.needs_review, paid_at=payment.created_at,
    )


def _line_context(payment: Payment) -> dict:
    """What an email lists of the frozen line: the page's title, [(variant, option)], [(label, answer)],
    and the coupon code."""
    line = payment.line or {}
    return {
        "page_title": line.get("page", {}).get("title", ""),
        "options": [(item["variant"], item["option"]) for item in line.get("items", [])],
        "answers": [(answer["label"], lines.answer_text(answer["value"])) for answer in line.get("answers", [])],
        "coupon_code": (line.get("coupon") or {}).get("code"),
    }


def _formatted(payment: Payment) -> str:
    """The amount for people; a currency money.py does not know (the PSP's word is final) is
    shown as minor units and code rather than losing the payment to a formatting error."""
    if money.is_currency(payment.currency):
        return money.format_money(payment.amount, payment.currency)
    return f"{payment.amount} {payment.currency} (minor units)"
