"""Inbound PSP events (SPEC §5): verify, store once, apply, all in the caller's transaction.

A PSP delivers at least once and sometimes many times at once. The event row is unique per
(provider, event id) and inserted before anything is applied, so concurrent copies of one
event queue on that insert and all but the first become no-ops: one row, one effect."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.checkout.models import CheckoutSession
from checkie.database import utcnow
from checkie.inputs import id_in, loads_json
from checkie.payments import outcomes, payouts
from checkie.payments.models import PaymentAttempt, ProviderEvent
from checkie.providers import by_name, has_own_stripe_keys, stripe_webhook_secret
from checkie.providers.base import IntentEvent, ProviderNotConfigured
from checkie.providers.stripe import (
    PAYMENT_FAILED,
    PAYOUT_PAID,
    SETUP_FAILED,
    SETUP_SUCCEEDED,
    SUCCEEDED,
    PayoutEvent,
    StripeProvider,
    parse_event,
    read_intent_event,
    read_payout_event,
)
from checkie.stores.models import Store

log = logging.getLogger("checkie.payments.intake")


def receive_event(db: Session, provider_name: str, payload: bytes, signature_header: str) -> int | None:
    """Verify `payload` and check its shape (InvalidSignature/InvalidPayload: nothing stored),
    store it, and apply it.

    Returns the stored event's id, or None when this event was already received (a duplicate).
    Flushes, never commits: the event row and its effects commit together or not at all."""
    event, signer = verify_event(db, provider_name, payload, signature_header)
    intent = read_intent_event(event)
    # Only Stripe reports a payout's outcome later. The test provider answers a payout at once,
    # and its events are signed with a published secret: they must not move a payout.
    payout = read_payout_event(event) if provider_name == StripeProvider.name else None
    stored = _store_once(db, provider_name, event)
    if stored is None:
        log.info("duplicate %s event %s ignored", provider_name, event["id"])
        return None
    if signer is not None and not _concerns_only(db, provider_name, signer, intent, payout):
        log.warning("%s event %s signed by store %s is about another store's object; ignored",
                    provider_name, event["id"], signer)
    elif intent is not None:
        dispatch(db, provider_name, intent)
    elif payout is not None:
        dispatch_payout(db, provider_name, payout)
    else:
        log.info("%s event type %s stored and ignored", provider_name, event["type"])
    db.flush()
    return stored


def verify_event(db: Session, provider_name: str, payload: bytes, signature_header: str) -> tuple[dict, int | None]:
    """The verified event as a dict, and the store whose own secret signed it (None: the
    platform's secret). A Stripe event is checked with the webhook secret of the store it names
    (`data.object.metadata.store_id`, which Checkie sets on every object it creates), when that
    store has keys of its own, else with the platform's: the name only chooses which secret to
    check, the signature is what is trusted."""
    if provider_name != StripeProvider.name:
        return by_name(provider_name).verify_webhook(payload, signature_header), None
    store = _named_store(db, payload)
    secret = stripe_webhook_secret(store)
    if not secret:
        raise ProviderNotConfigured("Stripe is not configured")
    return parse_event(payload, signature_header, secret), store.id if store is not None and has_own_stripe_keys(store) else None


def _concerns_only(db: Session, provider_name: str, store_id: int, intent: IntentEvent | None,
                   payout: PayoutEvent | None) -> bool:
    """Whether the intent or payout an event signed with a store's own secret is about belongs
    to that store (or to no store Checkie knows). A merchant knows their own webhook secret, so
    their signature vouches for their own objects only, never another store's."""
    if intent is not None:
        owner = db.scalar(
            sa.select(CheckoutSession.store_id).join(PaymentAttempt, PaymentAttempt.session_id == CheckoutSession.id)
            .where(PaymentAttempt.provider == provider_name, PaymentAttempt.provider_intent_id == intent.intent_id)
        )
        return owner is None or owner == store_id
    if payout is not None:
        return payouts.reported_store(db, provider_name, payout.payout_id, payout.checkie_payout_id) in (None, store_id)
    return True


def _named_store(db: Session, payload: bytes) -> Store | None:
    """The store an unverified Stripe event says it is about, or None."""
    try:
        event = loads_json(payload)
        store_id = event["data"]["object"]["metadata"]["store_id"]
    except (ValueError, TypeError, KeyError):
        return None
    named = id_in(store_id)
    return db.get(Store, named) if named is not None else None


#: No unique-violation error per duplicate in the server log; a concurrent copy waits for the
#: first insert's transaction and then inserts nothing. Built once, the values as parameters, on
#: the table rather than the entity: an ORM INSERT is re-annotated and its RETURNING turned into
#: entities on every execution, which cost ~40% of a webhook request's CPU; nothing reads the
#: stored row back (RETURNING its id tells a new event from a duplicate).
_INSERT_UNLESS_STORED = (
    pg_insert(ProviderEvent.__table__).on_conflict_do_nothing(constraint="uq_provider_events_provider_event")
    .returning(ProviderEvent.__table__.c.id)
)


def _store_once(db: Session, provider_name: str, event: dict) -> int | None:
    now = utcnow()
    # Stamped processed as it is stored: the row and the event's effects commit together or
    # not at all (nobody ever sees one without the other), and this saves an UPDATE per event.
    values = {
        "provider": provider_name,
        "event_id": event["id"],
        "type": event["type"],
        "payload": event,
        "received_at": now,
        "processed_at": now,
    }
    if db.get_bind().dialect.name == "postgresql":
        return db.execute(_INSERT_UNLESS_STORED, values).scalar_one_or_none()
    stored = ProviderEvent(**values)
    try:
        with db.begin_nested():
            db.add(stored)
    except IntegrityError:
        return None
    return stored.id


def dispatch(db: Session, provider_name: str, intent: IntentEvent) -> None:
    """Apply what the event says about a payment or setup intent through payments.outcomes."""
    if intent.type == SUCCEEDED:
        outcomes.payment_succeeded(
            db, provider=provider_name, intent_id=intent.intent_id, amount=intent.amount,
            currency=intent.currency, metadata=intent.metadata,
        )
    elif intent.type == SETUP_SUCCEEDED:
        outcomes.setup_succeeded(db, provider=provider_name, intent_id=intent.intent_id, metadata=intent.metadata)
    elif intent.type in (PAYMENT_FAILED, SETUP_FAILED):
        outcomes.payment_failed(
            db, provider=provider_name, intent_id=intent.intent_id, code=intent.failure_code, message=intent.failure_message,
        )
    else:
        outcomes.payment_requires_action(
            db, provider=provider_name, intent_id=intent.intent_id, next_action_url=intent.next_action_url
        )


def dispatch_payout(db: Session, provider_name: str, event: PayoutEvent) -> None:
    """Apply a payout's later outcome through payments.payouts (an unknown payout: nothing)."""
    if event.type == PAYOUT_PAID:
        payouts.provider_reports_paid(db, provider=provider_name, provider_payout_id=event.payout_id,
                                      payout_id=event.checkie_payout_id)
    else:
        payouts.provider_reports_failed(
            db, provider=provider_name, provider_payout_id=event.payout_id, payout_id=event.checkie_payout_id,
            failure_code=event.failure_code or "payout_failed",
        )
