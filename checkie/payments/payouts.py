"""Payouts (SPEC §3 Payout): money out of a store's balance to its bank account, exactly once.

A request checks the balance under the balance row's lock and writes the `payout` ledger row
(−amount) and the Payout in one transaction, so concurrent requests queue on that lock and the
balance never goes below zero through payouts. The payout row is the source of truth for the
rest: a task claims it (FOR UPDATE SKIP LOCKED, due rows only), marks it `processing` with a
lease, asks the provider with an idempotency key derived from the payout id, then records the
answer: `paid`, or `failed` with a `payout_reversal` row (+amount). A task that runs twice finds
the payout settled; a worker that dies after the provider call leaves it `processing` until the
lease ends, and the rerun's provider call with the same key answers the first payout."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from decimal import ROUND_CEILING

import sqlalchemy as sa
from flask import current_app
from huey import crontab
from sqlalchemy.orm import Session

from checkie import money, providers
from checkie.database import utcnow
from checkie.errors import DomainError, NotFound, ValidationFailed
from checkie.extensions import db as _db
from checkie.notifications.services import queue_email
from checkie.payments import ledger
from checkie.payments.models import OPEN_PAYOUT_STATUSES, Payout, PayoutAccount, PayoutStatus, TransactionType
from checkie.security import decrypt_secret, encrypt_secret
from checkie.stores.access import MAX_ID
from checkie.stores.models import Store
from checkie.tasks import enqueue_after_commit, periodic_task, task
from checkie.webhooks.services import record_event

log = logging.getLogger(__name__)

#: How long a claimed payout is left to its task before the sweeper hands it to another.
LEASE = timedelta(minutes=5)
MAX_HOLDER_NAME_LENGTH = 200
_ROUTING_NUMBER = re.compile(r"[0-9]{9}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{4,17}")


class PayoutRefused(DomainError):
    """A payout that may not be requested: 422 with the reason as its code."""

    status = 422


# ---------------------------------------------------------------- the bank account


def set_payout_account(db: Session, store: Store, *, account_holder_name: object, routing_number: object,
                       account_number: object) -> PayoutAccount:
    """Save (or replace) the store's bank account; the number is kept only encrypted.
    ValidationFailed names every field that is wrong, and nothing is saved then."""
    holder = account_holder_name.strip() if isinstance(account_holder_name, str) else ""
    routing = _digits(routing_number)
    account = _digits(account_number)
    errors: dict[str, list[str]] = {}
    if not holder:
        errors["account_holder_name"] = ["Enter the account holder's name."]
    elif len(holder) > MAX_HOLDER_NAME_LENGTH:
        errors["account_holder_name"] = [f"At most {MAX_HOLDER_NAME_LENGTH} characters."]
    if not _ROUTING_NUMBER.fullmatch(routing):
        errors["routing_number"] = ["A routing number is 9 digits."]
    if not _ACCOUNT_NUMBER.fullmatch(account):
        errors["account_number"] = ["An account number is 4 to 17 digits."]
    if errors:
        raise ValidationFailed("The bank account is not valid.", fields=errors)
    saved = db.get(PayoutAccount, store.id) or PayoutAccount(store_id=store.id)
    saved.holder_name = holder
    saved.routing_number = routing
    saved.account_number_encrypted = encrypt_secret(account, current_app.config["ENCRYPTION_KEY"])
    saved.last4 = account[-4:]
    db.add(saved)
    db.flush()
    return saved


def payout_account(db: Session, store: Store) -> PayoutAccount | None:
    return db.get(PayoutAccount, store.id)


def _digits(value: object) -> str:
    """The value without the spaces and dashes people type into bank numbers ("" if not text)."""
    return re.sub(r"[\s-]", "", value) if isinstance(value, str) else ""


# ---------------------------------------------------------------- requesting


def minimum_payout(currency: str) -> int:
    """PAYOUT_MINIMUM (major units) in `currency`'s minor units, rounded up."""
    scaled = current_app.config["PAYOUT_MINIMUM"].scaleb(money.exponent(currency))
    return int(scaled.to_integral_value(rounding=ROUND_CEILING))


def request_payout(db: Session, store: Store, *, amount: int, currency: str) -> Payout:
    """Take `amount` minor units of `currency` out of the store's balance for its bank account,
    under the balance row's lock: PayoutRefused (`no_payout_account`, `below_minimum`,
    `insufficient_balance`) and nothing written, or the `requested` Payout with its `payout`
    ledger row, processed by a task once the caller commits."""
    currency = currency.upper()
    if not money.is_currency(currency):
        raise ValidationFailed.on("currency", "Unknown currency.")
    if payout_account(db, store) is None:
        raise PayoutRefused("Add a bank account before requesting a payout.", code="no_payout_account")
    minimum = minimum_payout(currency)
    if amount < minimum:
        raise PayoutRefused(f"The smallest payout is {money.format_money(minimum, currency)}.", code="below_minimum")
    available = ledger.lock_balance(db, store.id, currency)
    if amount > available:
        raise PayoutRefused(
            f"The available balance is {money.format_money(max(available, 0), currency)}; "
            f"a payout of {money.format_money(amount, currency)} is more than that.",
            code="insufficient_balance",
        )
    payout = Payout(store_id=store.id, amount=amount, currency=currency, provider=providers.for_store(store).name,
                    status=PayoutStatus.REQUESTED, attempts=0, due_at=utcnow(), requested_at=utcnow())
    db.add(payout)
    db.flush()
    ledger.post_entries(db, store.id, currency, [
        ledger.Entry(TransactionType.PAYOUT, -amount, payout_id=payout.id, description=f"Payout #{payout.id}"),
    ])
    enqueue_after_commit(process_payout_task, payout.id)
    return payout


# ---------------------------------------------------------------- reading


def payouts_of(db: Session, store: Store, *, page: int, per_page: int) -> tuple[list[Payout], bool]:
    """A page of the store's payouts, newest first, and whether an older page exists."""
    rows = list(db.scalars(
        sa.select(Payout).where(Payout.store_id == store.id).order_by(Payout.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)
    ))
    return rows[:per_page], len(rows) > per_page


def payout_of(db: Session, store: Store, payout_id: int) -> Payout:
    """The store's payout `payout_id`; NotFound for another store's or none."""
    payout = db.get(Payout, payout_id)
    if payout is None or payout.store_id != store.id:
        raise NotFound("No such payout.")
    return payout


# ---------------------------------------------------------------- processing


def idempotency_key_for(payout: Payout) -> str:
    """The key every provider call for this payout carries, whichever attempt makes it."""
    return f"checkie-payout-{payout.id}"


def process_payout(db: Session, payout_id: int, *, now: datetime | None = None) -> Payout | None:
    """Run the payout through the provider if it is still open and due at `now` (default: the
    present), committing the claim and then the outcome. None when there was nothing to do:
    settled, not due (another task holds its lease), or locked by another worker."""
    now = now or utcnow()
    payout = _claim(db, payout_id, now)
    if payout is None:
        return None
    account = db.get_one(PayoutAccount, payout.store_id)
    account_number = decrypt_secret(account.account_number_encrypted, current_app.config["ENCRYPTION_KEY"])
    routing_number = account.routing_number
    store = db.get_one(Store, payout.store_id)
    provider = providers.of(store, payout.provider)
    db.commit()  # the lease is held from here; the provider call runs outside any transaction
    result = provider.create_payout(
        amount=payout.amount, currency=payout.currency.lower(), routing_number=routing_number,
        account_number=account_number, idempotency_key=idempotency_key_for(payout),
        metadata={"store_id": str(payout.store_id), "payout_id": str(payout.id)},
    )
    settled = db.scalar(sa.select(Payout).where(Payout.id == payout_id).with_for_update())
    if settled is None or settled.status is not PayoutStatus.PROCESSING:
        db.rollback()
        return settled
    settled.provider_payout_id = result.payout_id
    if result.status == "paid":
        _mark_paid(db, store, settled)
    else:
        _mark_failed(db, store, settled, result.failure_code or "payout_failed")
    db.commit()
    return settled


# ---------------------------------------------------------------- the provider's later word


def provider_reports_paid(db: Session, *, provider: str, provider_payout_id: str,
                          payout_id: int | None = None) -> Payout | None:
    """The provider says the payout reached the bank (Stripe's `payout.paid`): a payout not yet
    paid becomes paid. None, and nothing changes, for a payout Checkie does not know; a failed
    one stays failed (its money is back in the balance; the provider's last word was a failure).
    Flushes, never commits: the caller's transaction holds the event row too."""
    payout = _reported(db, provider, provider_payout_id, payout_id)
    if payout is None:
        return None
    if payout.status is PayoutStatus.PAID:
        return payout
    if payout.status is PayoutStatus.FAILED:
        log.warning("payout %s reported paid after it failed; left failed", payout.id)
        return payout
    _mark_paid(db, db.get_one(Store, payout.store_id), payout)
    db.flush()
    return payout


def provider_reports_failed(db: Session, *, provider: str, provider_payout_id: str, failure_code: str,
                            payout_id: int | None = None) -> Payout | None:
    """The provider says the payout failed (Stripe's `payout.failed`), which it can do days
    after reporting it paid: the money comes back to the balance (`payout_reversal`) exactly
    once, whatever the status was. None, and nothing changes, for an unknown payout."""
    payout = _reported(db, provider, provider_payout_id, payout_id)
    if payout is None:
        return None
    if payout.status is not PayoutStatus.FAILED:
        _mark_failed(db, db.get_one(Store, payout.store_id), payout, failure_code)
        db.flush()
    return payout


def reported_store(db: Session, provider: str, provider_payout_id: str, payout_id: int | None) -> int | None:
    """The store of the payout a provider's event names (as `_reported` finds it), or None."""
    return db.scalar(sa.select(Payout.store_id).where(_names(provider, provider_payout_id, payout_id)).limit(1))


def _names(provider: str, provider_payout_id: str, payout_id: int | None) -> sa.ColumnElement[bool]:
    by_provider_id = sa.and_(Payout.provider == provider, Payout.provider_payout_id == provider_payout_id)
    if payout_id is None or not 0 < payout_id <= MAX_ID:
        return by_provider_id
    by_own_id = sa.and_(Payout.id == payout_id, Payout.provider == provider, Payout.provider_payout_id.is_(None))
    return sa.or_(by_provider_id, by_own_id)


def _reported(db: Session, provider: str, provider_payout_id: str, payout_id: int | None) -> Payout | None:
    """The payout the provider names, locked: a concurrent event about it (or its task, which
    takes the same lock to record the provider's answer) waits, so one of them applies it.
    Found by the provider's id, or by Checkie's (`payout_id`, from the payout's metadata) while
    the task has not recorded the provider's id yet — the event outran it, and the id is
    recorded now: the task then finds the payout settled and leaves it."""
    payout = db.scalar(
        sa.select(Payout).where(_names(provider, provider_payout_id, payout_id))
        .order_by(Payout.provider_payout_id.is_(None)).limit(1).with_for_update()
    )
    if payout is not None and payout.provider_payout_id is None:
        payout.provider_payout_id = provider_payout_id
    if payout is None:
        log.info("%s reports on payout %s, which Checkie does not know; ignored", provider, provider_payout_id)
    return payout


def _claim(db: Session, payout_id: int, now: datetime) -> Payout | None:
    payout = db.scalar(
        sa.select(Payout)
        .where(Payout.id == payout_id, Payout.status.in_(OPEN_PAYOUT_STATUSES), Payout.due_at <= now)
        .with_for_update(skip_locked=True)
    )
    if payout is None:
        db.rollback()
        return None
    payout.status = PayoutStatus.PROCESSING
    payout.attempts += 1
    payout.due_at = now + LEASE
    return payout


def _mark_paid(db: Session, store: Store, payout: Payout) -> None:
    payout.status = PayoutStatus.PAID
    payout.paid_at = utcnow()
    payout.last_error = None
    record_event(db, store.id, "payout.paid", payout)
    queue_email(
        db, to=store.owner.email, template="payout_paid", subject=f"{store.name}: payout of {_formatted(payout)} paid",
        store_name=store.name, store_id=store.id, payout_id=payout.id, amount=_formatted(payout),
    )


def _mark_failed(db: Session, store: Store, payout: Payout, failure_code: str) -> None:
    payout.status = PayoutStatus.FAILED
    payout.failure_code = failure_code
    payout.failed_at = utcnow()
    ledger.post_entries(db, store.id, payout.currency, [
        ledger.Entry(TransactionType.PAYOUT_REVERSAL, payout.amount, payout_id=payout.id,
                     description=f"Payout #{payout.id} failed: {failure_code}"),
    ])
    record_event(db, store.id, "payout.failed", payout)
    log.warning("payout %s of store %s failed: %s", payout.id, store.id, failure_code)
    queue_email(
        db, to=store.owner.email, template="payout_failed",
        subject=f"{store.name}: payout of {_formatted(payout)} failed",
        store_name=store.name, store_id=store.id, payout_id=payout.id, amount=_formatted(payout),
        failure_code=failure_code,
    )


def _formatted(payout: Payout) -> str:
    return money.format_money(payout.amount, payout.currency)


def due_payout_ids(db: Session, *, limit: int = 500) -> list[int]:
    """Open payouts whose due time has come: never claimed, or their lease ran out."""
    return list(db.scalars(
        sa.select(Payout.id).where(Payout.status.in_(OPEN_PAYOUT_STATUSES), Payout.due_at <= utcnow())
        .order_by(Payout.due_at).limit(limit)
    ))



@task()
def process_payout_task(payout_id: int) -> None:
    """Idempotent: a payout already settled, or leased by another run, is left alone."""
    process_payout(_db.session, payout_id)


@periodic_task(crontab(minute="*"))
def sweep_payouts() -> None:
    """Re-enqueue open payouts that are due: never picked up, or their task's lease ran out."""
    for payout_id in due_payout_ids(_db.session):
        process_payout_task(payout_id)
