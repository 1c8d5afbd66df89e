"""Renewals (SPEC §5, §8): each period's charge is a row with a due time, claimed with
`FOR UPDATE SKIP LOCKED`, charged through the provider, and recorded as a Payment with its
ledger rows. A declined charge makes the subscription `past_due` and is retried 3, 5 and 7
days after that first failure; after the last one the subscription is `canceled`
(`payment_failed`).

One period is charged once: the row is unique per (subscription, period start), a settled row
is never charged again, and the provider's idempotency key is the row's id with the number of
declines recorded so far. A worker that dies after the provider charged but before its commit
rolls back everything; the row is still due, and the next run asks the provider again under
the same key, which answers the same charge (recorded then, never lost, never doubled).

The subscription's row is locked for the whole charge (as a refund holds its payment), so a
cancel or pause waits for a charge in flight instead of racing it."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from huey import crontab
from sqlalchemy.orm import Session

from checkie import money, providers
from checkie.customers.models import Customer
from checkie.database import dialect_insert, utcnow
from checkie.errors import ValidationFailed
from checkie.extensions import db as _db
from checkie.notifications.services import queue_email
from checkie.payments import ledger, outcomes
from checkie.payments.models import Payment
from checkie.payments.services import payment_by_provider_id
from checkie.stores.models import Store
from checkie.subscriptions import clock, periods, services
from checkie.subscriptions.models import (
    CancellationReason,
    RenewalStatus,
    Subscription,
    SubscriptionRenewal,
    SubscriptionStatus,
)
from checkie.tasks import periodic_task, task
from checkie.webhooks.services import record_event

log = logging.getLogger(__name__)

#: Days after a renewal's first decline on which it is charged again; a decline after the last
#: one cancels the subscription.
RETRY_DAYS = (3, 5, 7)
#: Statuses whose renewals are charged.
BILLABLE = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
#: The most one advance of a test clock moves it: ten years of renewals is already a long run.
MAX_ADVANCE_DAYS = 3650


def process_renewal(db: Session, renewal_id: int, *, now: datetime | None = None) -> Payment | None:
    """Settle the renewal if it is open and due at `now` (default: its store's clock) and commit:
    charged (the Payment is returned), declined (dunning), or ended (a cancellation at period
    end, or a subscription that no longer bills). None, and nothing done, when it is not due,
    already settled, or another worker holds it."""
    found = _claim(db, renewal_id, now)
    if found is None:
        db.rollback()
        return None
    subscription, renewal, now = found
    payment = _settle(db, subscription, renewal, now)
    db.commit()
    return payment


def _claim(db: Session, renewal_id: int, now: datetime | None) -> tuple[Subscription, SubscriptionRenewal, datetime] | None:
    """The subscription (locked first, as every action locks it) and its renewal, when the
    renewal is scheduled and due; skips rows another worker holds."""
    subscription_id = db.scalar(sa.select(SubscriptionRenewal.subscription_id).where(SubscriptionRenewal.id == renewal_id))
    if subscription_id is None:
        return None
    subscription = db.scalar(
        sa.select(Subscription).where(Subscription.id == subscription_id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )
    if subscription is None:
        return None
    now = now or clock.now(db, subscription.store_id)
    renewal = db.scalar(
        sa.select(SubscriptionRenewal)
        .where(SubscriptionRenewal.id == renewal_id, SubscriptionRenewal.status == RenewalStatus.SCHEDULED,
               SubscriptionRenewal.due_at <= now)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )
    if renewal is None:
        return None
    return subscription, renewal, now


def _settle(db: Session, subscription: Subscription, renewal: SubscriptionRenewal, now: datetime) -> Payment | None:
    if subscription.status not in BILLABLE:
        renewal.status = RenewalStatus.CANCELED
        return None
    if subscription.cancel_at_period_end and renewal.period_start >= subscription.current_period_end:
        renewal.status = RenewalStatus.CANCELED
        services.end(db, subscription, reason=subscription.cancellation_reason or CancellationReason.REQUESTED_BY_MERCHANT,
                     at=renewal.period_start)
        return None
    amount = periods.charge_amount(subscription, period_start=renewal.period_start,
                                   payments_so_far=_charges_so_far(db, subscription))
    if amount == 0:  # a 100 % coupon: the period is renewed with nothing to charge
        _renewed(db, subscription, renewal, None, now)
        return None
    store = db.get_one(Store, subscription.store_id)
    customer = db.get_one(Customer, subscription.customer_id)
    result = providers.of(store, subscription.provider).charge_customer(
        customer_id=subscription.provider_customer_id or customer.provider_customer_id or "",
        payment_method=subscription.payment_method,
        amount=amount, currency=subscription.currency.lower(),
        metadata={"store_id": str(store.id), "subscription_id": str(subscription.id), "renewal_id": str(renewal.id)},
        idempotency_key=f"checkie-renewal-{renewal.id}-{renewal.failures}",
    )
    if result.status == "succeeded":
        payment = _record_payment(db, store, subscription, renewal, customer, amount, result.intent_id, now)
        _renewed(db, subscription, renewal, payment, now)
        return payment
    _declined(db, store, subscription, renewal, customer, amount, result.failure_code or "card_declined", now)
    return None


def _charges_so_far(db: Session, subscription: Subscription) -> int:
    """Its payments, and the periods a 100 % coupon made free (settled with no Payment): a
    `once` coupon that made the trial's first charge nothing must not make the next one free."""
    payments = db.scalar(sa.select(sa.func.count()).where(Payment.subscription_id == subscription.id)) or 0
    free = db.scalar(sa.select(sa.func.count()).where(
        SubscriptionRenewal.subscription_id == subscription.id, SubscriptionRenewal.status == RenewalStatus.SUCCEEDED,
        SubscriptionRenewal.payment_id.is_(None),
    )) or 0
    return payments + free


def _record_payment(db: Session, store: Store, subscription: Subscription, renewal: SubscriptionRenewal,
                    customer: Customer, amount: int, intent_id: str, now: datetime) -> Payment:
    """The captured renewal: a Payment (its line names the page and the period), its ledger rows
    `payment` and `fee`, and the customer's receipt. The insert skips a payment the provider's
    idempotency already gave us (never two Payments for one intent)."""
    fee = ledger.fee_for(amount)
    period_end = periods.next_period_end(subscription, renewal.period_start)
    title = services.title_of(db, subscription)
    discount = subscription.amount - amount
    line = {
        "page": {"id": subscription.page_id, "title": title}, "price": subscription.amount, "items": [], "answers": [],
        "coupon": {"code": subscription.coupon_code, "discount": discount} if discount else None,
        "subtotal": subscription.amount, "discount": discount, "total": amount, "currency": subscription.currency,
        "subscription": {"id": subscription.id, "periodStart": renewal.period_start.isoformat(),
                         "periodEnd": period_end.isoformat()},
    }
    payment = db.scalars(
        dialect_insert(db)(Payment).values(
            store_id=store.id, session_id=None, page_id=subscription.page_id, customer_id=customer.id,
            subscription_id=subscription.id, amount=amount, fee=fee, net=amount - fee,
            currency=subscription.currency, provider=subscription.provider, provider_payment_id=intent_id,
            email=customer.email, amount_refunded=0, needs_review=False, line=line, created_at=now,
        ).on_conflict_do_nothing(index_elements=["provider", "provider_payment_id"]).returning(Payment)
    ).one_or_none()
    if payment is None:  # recorded already (cannot happen while the row is locked, but never double-credit)
        recorded = payment_by_provider_id(db, subscription.provider, intent_id)
        assert recorded is not None  # the insert conflicted on exactly this (provider, intent)
        return recorded
    outcomes.queue_receipt(db, store, payment, name=customer.name, period_start=renewal.period_start,
                           period_end=period_end)
    record_event(db, store.id, "payment.completed", payment)
    ledger.credit_payment(db, payment, f"Renewal {intent_id}")
    return payment


def _renewed(db: Session, subscription: Subscription, renewal: SubscriptionRenewal, payment: Payment | None,
             now: datetime) -> None:
    """The period is paid: it becomes the current one, and the next is scheduled."""
    period_end = periods.next_period_end(subscription, renewal.period_start)
    renewal.status = RenewalStatus.SUCCEEDED
    renewal.payment_id = payment.id if payment else None
    trial_ended = subscription.status is SubscriptionStatus.TRIALING
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.current_period_start = renewal.period_start
    subscription.current_period_end = period_end
    services.schedule_renewal(db, subscription, period_end)
    services.add_event(db, subscription, "trial_ended" if trial_ended else "renewed", now,
                       paymentId=payment.id if payment else None, periodEnd=period_end.isoformat(),
                       afterFailures=renewal.failures or None)
    record_event(db, subscription.store_id, "subscription.renewed", subscription)
    db.flush()


def _declined(db: Session, store: Store, subscription: Subscription, renewal: SubscriptionRenewal,
              customer: Customer, amount: int, code: str, now: datetime) -> None:
    """Dunning: `past_due` and a retry 3, 5 or 7 days after the first decline, or the end."""
    renewal.failures += 1
    renewal.first_failed_at = renewal.first_failed_at or now
    renewal.failure_code = code[:100]
    if renewal.failures > len(RETRY_DAYS):
        renewal.status = RenewalStatus.FAILED
        services.add_event(db, subscription, "payment_failed", now, code=code, attempt=renewal.failures, final=True)
        services.end(db, subscription, reason=CancellationReason.PAYMENT_FAILED, at=now)
        return
    retry_at = renewal.first_failed_at + timedelta(days=RETRY_DAYS[renewal.failures - 1])
    renewal.due_at = retry_at
    subscription.status = SubscriptionStatus.PAST_DUE
    services.add_event(db, subscription, "payment_failed", now, code=code, attempt=renewal.failures,
                       retryAt=retry_at.isoformat())
    queue_email(
        db, to=customer.email, template="subscription_payment_failed",
        subject=f"Your payment to {store.name} failed", store_name=store.name,
        page_title=services.title_of(db, subscription), amount=money.format_money(amount, subscription.currency),
        code=code, retry_at=retry_at, attempt=renewal.failures, retries=len(RETRY_DAYS),
    )
    db.flush()


# ---------------------------------------------------------------- running what is due


def due_renewal_ids(db: Session, *, store_id: int | None = None, until: datetime | None = None,
                    limit: int = 500) -> list[int]:
    """Scheduled renewals that are due, earliest first. With `store_id`, that store's up to
    `until`; without, every store's at its own clock (the wall clock, or a test clock ahead of it)."""
    query = sa.select(SubscriptionRenewal.id).where(SubscriptionRenewal.status == RenewalStatus.SCHEDULED)
    if store_id is not None:
        query = query.where(SubscriptionRenewal.store_id == store_id,
                            SubscriptionRenewal.due_at <= (until or clock.now(db, store_id)))
    else:
        wall = utcnow()
        ahead = clock.offsets(db)
        due = [sa.and_(SubscriptionRenewal.store_id.not_in(list(ahead)) if ahead else sa.true(),
                       SubscriptionRenewal.due_at <= wall)]
        due += [sa.and_(SubscriptionRenewal.store_id == store, SubscriptionRenewal.due_at <= wall + offset)
                for store, offset in ahead.items()]
        query = query.where(sa.or_(*due))
    return list(db.scalars(query.order_by(SubscriptionRenewal.due_at, SubscriptionRenewal.id).limit(limit)))


def advance_clock(db: Session, store: Store, *, days: int) -> tuple[datetime, int]:
    """Move the store's test clock `days` forward and settle everything that falls due, in
    order of due time, each at its own time (a trial's end, a renewal, a dunning retry that the
    previous decline scheduled inside the window). Commits. Returns the new present and how many
    renewal charges succeeded. TestModeOnly (409) outside test mode; ValidationFailed on `days`
    unless it is a whole number of days from 1 to MAX_ADVANCE_DAYS: a clock never goes back (settled periods would fall due again
    in its past), and a far jump would overflow the calendar."""
    if not providers.in_test_mode(store):
        raise clock.TestModeOnly("The test clock only runs in test mode (the test payment provider).")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_ADVANCE_DAYS:
        raise ValidationFailed.on("days", f"Enter a whole number of days from 1 to {MAX_ADVANCE_DAYS}.")
    target = clock.advance(db, store.id, timedelta(days=days))
    db.commit()
    renewed = 0
    while True:
        due = db.execute(
            sa.select(SubscriptionRenewal.id, SubscriptionRenewal.due_at)
            .where(SubscriptionRenewal.store_id == store.id, SubscriptionRenewal.status == RenewalStatus.SCHEDULED,
                   SubscriptionRenewal.due_at <= target)
            .order_by(SubscriptionRenewal.due_at, SubscriptionRenewal.id).limit(1)
        ).first()
        db.rollback()
        if due is None:
            return target, renewed
        payment = process_renewal(db, due.id, now=due.due_at)
        if payment is not None:
            renewed += 1
        elif _still_due(db, due.id):
            # Its subscription is locked by a worker settling it, or by an action under way:
            # wait for that commit on the same lock (not in a loop of skipped claims), then go on.
            db.scalar(sa.select(Subscription.id).join(SubscriptionRenewal, SubscriptionRenewal.subscription_id == Subscription.id)
                      .where(SubscriptionRenewal.id == due.id).with_for_update(of=Subscription))
            db.rollback()


def _still_due(db: Session, renewal_id: int) -> bool:
    status = db.scalar(sa.select(SubscriptionRenewal.status).where(SubscriptionRenewal.id == renewal_id))
    db.rollback()
    return status is RenewalStatus.SCHEDULED


@task()
def process_renewal_task(renewal_id: int) -> None:
    """Idempotent: a renewal already settled, not due, or held by another run is left alone."""
    process_renewal(_db.session, renewal_id)


@periodic_task(crontab(minute="*"))
def run_due_renewals() -> None:
    """Enqueue every renewal that is due at its store's clock (the rows are the schedule)."""
    for renewal_id in due_renewal_ids(_db.session):
        process_renewal_task(renewal_id)
