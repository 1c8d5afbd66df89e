"""Starting a payment (SPEC §4, §5): the checkout moves to processing, the store's provider is
asked for a payment intent, and its synchronous answer is applied through payments.outcomes.

Payments sit to the right of checkout (README, "Project layout"): this module drives the
checkout's state table through checkout.services, and checkout knows nothing of payments."""
from __future__ import annotations

from sqlalchemy.orm import Session

from checkie import providers
from checkie.catalog.coupons import hold_redemption, release_hold_at_once
from checkie.checkout import guards
from checkie.checkout.locks import checkout_page, lock_checkout
from checkie.checkout.models import CheckoutSession
from checkie.checkout.services import InvalidTransition, apply_event, refuse_past_expiry
from checkie.checkout.states import CheckoutEvent, accepts
from checkie.errors import ValidationFailed
from checkie.payments import outcomes
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.payments.outcomes import STORE_WITH_OWNER, remember_new_attempt
from checkie.payments.test_provider import record_events
from checkie.stores.models import Store


def initiate_payment(db: Session, checkout: CheckoutSession, *, payment_method: str | None) -> PaymentAttempt:
    """Move an open checkout to processing and ask the store's provider for a payment intent
    for the session's total (minor units), or a setup intent that saves the card during a
    subscription's free trial. Holds the coupon's redemption — in a short transaction of its
    own, before the provider is called, given back if this call fails —, counts the attempt,
    then applies the provider's synchronous answer through payments.outcomes (the same
    functions webhook events call). ValidationFailed for a payment method the provider does
    not take (nothing written) or listing every reason the session cannot be paid yet;
    InvalidTransition when it is not open."""
    lock_checkout(db, checkout)
    refuse_past_expiry(checkout)
    if not accepts(checkout.state, CheckoutEvent.INITIATE_PAYMENT):
        raise InvalidTransition(f"A {checkout.state.value} checkout session cannot start a payment.")
    store = db.get_one(Store, checkout.store_id, options=STORE_WITH_OWNER)
    provider = providers.for_store(store)
    if not provider.accepts_payment_method(payment_method):
        # Never echo the value: a shopper may have typed a real card number into it.
        raise ValidationFailed.on("payment_method", provider.payment_method_hint)
    problems = guards.payment_problems(checkout, page=checkout_page(db, checkout))
    if problems:
        reasons = " ".join(message for messages in problems.values() for message in messages)
        raise ValidationFailed(f"This checkout cannot be paid yet. {reasons}", fields=problems)
    held_now = _hold_coupon(db, checkout)
    try:
        attempt = _ask_provider(db, checkout, store, provider, payment_method)
    except BaseException:
        # This transaction will roll back; the hold committed on its own would outlive it.
        if held_now:
            release_hold_at_once(db, checkout.id)
        raise
    return attempt


def _ask_provider(db: Session, checkout: CheckoutSession, store: Store, provider: providers.PaymentProvider,
                  payment_method: str | None) -> PaymentAttempt:
    """Count the attempt, move the session to processing, ask the provider and apply its answer."""
    checkout.attempt_count += 1
    attempt = PaymentAttempt(
        session_id=checkout.id, number=checkout.attempt_count, provider=provider.name, amount=checkout.due_now,
        currency=checkout.currency, payment_method=payment_method,
        status=AttemptStatus.PROCESSING,  # the outcomes read it before the INSERT applies the column default
    )
    apply_event(db, checkout, CheckoutEvent.INITIATE_PAYMENT, detail={"attempt": attempt.number})
    # The attempt's number keys the PSP's idempotency: a repeated request makes one intent,
    # the next attempt (after a decline) a new one.
    metadata = {"checkout_session_id": checkout.id, "store_id": str(store.id), "attempt": str(attempt.number)}
    if attempt.amount == 0:  # a free trial: the card is saved for the first charge, at the trial's end
        result = provider.create_setup_intent(metadata=metadata, payment_method=payment_method)
    else:
        result = provider.create_payment_intent(
            amount=attempt.amount, currency=checkout.currency.lower(), metadata=metadata, payment_method=payment_method,
        )
    attempt.provider_intent_id = result.intent_id
    attempt.action_token = result.action_token
    attempt.client_secret = result.client_secret
    if result.customer_id:  # a Stripe.js card token, saved to this PSP customer as a reusable card
        attempt.provider_customer_id, attempt.payment_method = result.customer_id, result.payment_method
    # Added only now, after apply_event's flush: the outcome below changes the attempt again
    # before anything flushes, so one INSERT carries the provider's answer and its outcome
    # (not an INSERT then an UPDATE). Outcomes find it through remember_new_attempt, not by a query.
    db.add(attempt)
    record_events(db, result.events)
    remember_new_attempt(db, attempt)
    _apply_intent_result(db, provider.name, attempt, result, metadata)
    db.flush()
    return attempt


def _hold_coupon(db: Session, checkout: CheckoutSession) -> bool:
    """Hold the coupon's redemption (committed at once, see catalog.coupons.hold_redemption).
    True when this call made the hold, which the caller gives back if the payment cannot start."""
    if checkout.coupon_id is None or checkout.coupon_reserved:
        return False
    if not hold_redemption(db, checkout.id, checkout.coupon_id):
        raise ValidationFailed.on("coupon_code", "This code can no longer be used. Remove it to continue.")
    checkout.coupon_reserved = True
    return True


def _apply_intent_result(db: Session, provider_name: str, attempt: PaymentAttempt, result, metadata: dict) -> None:
    """The provider's synchronous answer, applied exactly as its webhook event would be. Any
    other status (still processing) waits for the event."""
    intent_id = result.intent_id
    if result.status == "requires_action":
        outcomes.payment_requires_action(db, provider=provider_name, intent_id=intent_id, next_action_url=result.next_action_url)
    elif result.status == "failed":
        outcomes.payment_failed(
            db, provider=provider_name, intent_id=intent_id, code=result.failure_code, message=result.failure_message
        )
    elif result.status == "succeeded" and attempt.amount == 0:
        outcomes.setup_succeeded(db, provider=provider_name, intent_id=intent_id, metadata=metadata)
    elif result.status == "succeeded":
        outcomes.payment_succeeded(
            db, provider=provider_name, intent_id=intent_id, amount=attempt.amount,
            currency=attempt.currency.lower(), metadata=metadata,
        )
