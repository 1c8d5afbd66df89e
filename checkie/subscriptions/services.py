"""Subscriptions' lifecycle (SPEC §3, §6.6): started by a subscription page's checkout, then
cancelled, paused and resumed through one table of allowed moves (subscriptions.actions).

Every change locks the subscription's row first (then its renewal rows), the order renewals
take them in too. Times come from the store's clock (subscriptions.clock), never the wall clock.
Functions flush, never commit."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie import money, providers
from checkie.catalog.models import Coupon, CouponDuration, Page, PricingType
from checkie.checkout.locks import checkout_page
from checkie.checkout.models import CheckoutSession
from checkie.customers.models import Customer
from checkie.database import dialect_insert
from checkie.errors import NotFound, ValidationFailed
from checkie.notifications.services import queue_email
from checkie.payments.models import Payment, PaymentAttempt
from checkie.stores.models import Store
from checkie.subscriptions import actions, clock, periods
from checkie.subscriptions.actions import Action
from checkie.subscriptions.models import (
    CHOOSABLE_REASONS,
    OPEN_RENEWAL_STATUSES,
    CancellationReason,
    RenewalStatus,
    Subscription,
    SubscriptionEvent,
    SubscriptionRenewal,
    SubscriptionStatus,
)
from checkie.webhooks.services import record_event

MAX_PAGE_SIZE = 100

# ---------------------------------------------------------------- starting


def start_from_checkout(db: Session, checkout: CheckoutSession, attempt: PaymentAttempt,
                        payment: Payment | None) -> Subscription | None:
    """Start the subscription a completed checkout of a subscription page bought: `trialing`
    until the trial's end (no payment yet, `payment` None), else `active` with `payment` as
    its first period's. The customer gets the PSP customer renewals charge, and the renewal of
    the next period (or the trial's end) is scheduled. None for a one-time page's checkout."""
    page = checkout_page(db, checkout)
    if page.pricing_type is not PricingType.SUBSCRIPTION or page.interval is None:
        return None
    store = db.get_one(Store, checkout.store_id)
    customer = db.get_one(Customer, checkout.customer_id)
    provider = providers.for_store(store)
    if customer.provider_customer_id is None and not attempt.provider_customer_id:
        customer.provider_customer_id = provider.create_customer(
            email=customer.email, name=customer.name, metadata={"store_id": str(store.id)},
        )
    now = clock.now(db, store.id)
    trial_end = now + timedelta(days=checkout.trial_days) if checkout.trial_days > 0 else None
    period_end = trial_end or periods.period_after(now, page.interval, page.interval_count)
    coupon = db.get(Coupon, checkout.coupon_id) if checkout.coupon_id is not None and checkout.discount else None
    subscription = Subscription(
        store_id=store.id, customer_id=customer.id, page_id=page.id, checkout_session_id=checkout.id,
        status=SubscriptionStatus.TRIALING if trial_end else SubscriptionStatus.ACTIVE,
        amount=checkout.subtotal, currency=checkout.currency.upper(), interval=page.interval,
        interval_count=page.interval_count, discount=checkout.discount if coupon else 0,
        discount_duration=coupon.duration if coupon else None,
        discount_until=(periods.discount_until(trial_end or now, coupon.duration_months)
                        if coupon and coupon.duration is CouponDuration.REPEATING else None),
        coupon_code=coupon.code if coupon else None, provider=provider.name,
        payment_method=attempt.payment_method or "", provider_customer_id=attempt.provider_customer_id,
        trial_end=trial_end, current_period_start=now,
        current_period_end=period_end, billing_anchor=trial_end or now, cancel_at_period_end=False, started_at=now,
    )
    db.add(subscription)
    db.flush()
    if payment is not None:
        payment.subscription_id = subscription.id
    schedule_renewal(db, subscription, period_end)
    add_event(db, subscription, "created", now, trialEnd=_iso(trial_end), paymentId=payment.id if payment else None)
    record_event(db, store.id, "subscription.created", subscription)
    if trial_end is not None:
        queue_email(
            db, to=customer.email, template="subscription_trial_started",
            subject=f"Your free trial with {store.name} has started", store_name=store.name,
            page_title=page.title, trial_end=trial_end, price=price_text(subscription),
        )
    db.flush()
    return subscription


def schedule_renewal(db: Session, subscription: Subscription, period_start: datetime) -> None:
    """The charge for the period starting at `period_start`, due then. Idempotent: one row per
    period; a row cancelled by a pause is scheduled again, a settled one is left alone."""
    values = dict(subscription_id=subscription.id, store_id=subscription.store_id, period_start=period_start,
                  due_at=period_start, status=RenewalStatus.SCHEDULED, failures=0)
    statement = dialect_insert(db)(SubscriptionRenewal).values(**values)
    db.execute(statement.on_conflict_do_update(
        index_elements=["subscription_id", "period_start"],
        set_={"status": RenewalStatus.SCHEDULED, "due_at": period_start, "failures": 0, "first_failed_at": None,
              "failure_code": None},
        where=SubscriptionRenewal.status == RenewalStatus.CANCELED,
    ))


def cancel_open_renewals(db: Session, subscription: Subscription) -> None:
    """Nothing more is owed: the subscription ended or paused."""
    db.execute(
        sa.update(SubscriptionRenewal)
        .where(SubscriptionRenewal.subscription_id == subscription.id,
               SubscriptionRenewal.status.in_(OPEN_RENEWAL_STATUSES))
        .values(status=RenewalStatus.CANCELED)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- actions


def lock(db: Session, subscription: Subscription) -> Subscription:
    """The subscription's row, locked until commit and re-read."""
    return db.scalars(
        sa.select(Subscription).where(Subscription.id == subscription.id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def cancel(db: Session, subscription: Subscription, *, at_period_end: bool, reason: object = None) -> Subscription:
    """Cancel now (renewals stop, `subscription.cancelled`) or at the end of the period (it
    runs, and is not renewed, until then; `resume` takes that back). `reason` is one of
    CHOOSABLE_REASONS (default requested_by_merchant). IllegalAction (409) per the table."""
    chosen = _reason(reason)
    subscription = lock(db, subscription)
    now = clock.now(db, subscription.store_id)
    if not at_period_end:
        actions.check(subscription, Action.CANCEL_NOW)
        end(db, subscription, reason=chosen, at=now)
        return subscription
    actions.check(subscription, Action.CANCEL_AT_PERIOD_END)
    subscription.cancel_at_period_end = True
    subscription.cancellation_reason = chosen
    add_event(db, subscription, "cancel_scheduled", now, endsAt=_iso(subscription.current_period_end),
              reason=chosen.value)
    db.flush()
    return subscription


def uncancel(db: Session, subscription: Subscription) -> Subscription:
    """Keep a subscription that was set to cancel at its period's end."""
    subscription = lock(db, subscription)
    actions.check(subscription, Action.UNCANCEL)
    subscription.cancel_at_period_end = False
    subscription.cancellation_reason = None
    add_event(db, subscription, "cancel_withdrawn", clock.now(db, subscription.store_id))
    db.flush()
    return subscription


def pause(db: Session, subscription: Subscription) -> Subscription:
    """Stop charging: the renewal is withdrawn and what was left of the period waits for `resume`."""
    subscription = lock(db, subscription)
    actions.check(subscription, Action.PAUSE)
    now = clock.now(db, subscription.store_id)
    subscription.status = SubscriptionStatus.PAUSED
    subscription.paused_at = now
    cancel_open_renewals(db, subscription)
    add_event(db, subscription, "paused", now)
    record_event(db, subscription.store_id, "subscription.paused", subscription)
    db.flush()
    return subscription


def resume(db: Session, subscription: Subscription) -> Subscription:
    """The API's and the portal's resume: keep one set to cancel at its period's end, or resume
    a paused one, whose period goes on for what was left of it when it paused."""
    subscription = lock(db, subscription)
    if actions.move_for(subscription, Action.UNCANCEL) is not None:
        return uncancel(db, subscription)
    actions.check(subscription, Action.RESUME)
    now = clock.now(db, subscription.store_id)
    left = periods.remaining(subscription, subscription.paused_at or now)
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.current_period_end = now + left
    subscription.billing_anchor = subscription.current_period_end
    subscription.paused_at = None
    schedule_renewal(db, subscription, subscription.current_period_end)
    add_event(db, subscription, "resumed", now, periodEnd=_iso(subscription.current_period_end))
    record_event(db, subscription.store_id, "subscription.resumed", subscription)
    db.flush()
    return subscription


def perform(db: Session, subscription: Subscription, action: Action, *, reason: object = None) -> Subscription:
    """One entry for the dashboard's buttons: `action` by its table name."""
    if action is Action.CANCEL_NOW:
        return cancel(db, subscription, at_period_end=False, reason=reason)
    if action is Action.CANCEL_AT_PERIOD_END:
        return cancel(db, subscription, at_period_end=True, reason=reason)
    if action is Action.UNCANCEL:
        return uncancel(db, subscription)
    if action is Action.PAUSE:
        return pause(db, subscription)
    subscription = lock(db, subscription)
    actions.check(subscription, Action.RESUME)
    return resume(db, subscription)


def end(db: Session, subscription: Subscription, *, reason: CancellationReason, at: datetime) -> None:
    """Cancel a locked subscription at `at`: renewals withdrawn, the timeline, the
    `subscription.cancelled` event and the customer's email."""
    subscription.status = SubscriptionStatus.CANCELED
    subscription.canceled_at = at
    subscription.cancellation_reason = reason
    subscription.cancel_at_period_end = False
    subscription.paused_at = None
    cancel_open_renewals(db, subscription)
    add_event(db, subscription, "canceled", at, reason=reason.value)
    record_event(db, subscription.store_id, "subscription.cancelled", subscription)
    store = db.get_one(Store, subscription.store_id)
    queue_email(
        db, to=subscription.customer.email, template="subscription_canceled",
        subject=f"Your subscription with {store.name} has ended", store_name=store.name,
        page_title=title_of(db, subscription), reason=reason.value, canceled_at=at,
    )
    db.flush()


def _reason(reason: object) -> CancellationReason:
    if reason is None or reason == "":
        return CancellationReason.REQUESTED_BY_MERCHANT
    for choice in CHOOSABLE_REASONS:
        if reason == choice.value:
            return choice
    raise ValidationFailed.on("reason", "Choose one of: " + ", ".join(r.value for r in CHOOSABLE_REASONS) + ".")


# ---------------------------------------------------------------- timeline and reading


def add_event(db: Session, subscription: Subscription, kind: str, at: datetime, **detail) -> SubscriptionEvent:
    row = SubscriptionEvent(subscription_id=subscription.id, kind=kind, at=at,
                            detail={key: value for key, value in detail.items() if value is not None})
    db.add(row)
    return row


def timeline(db: Session, subscription: Subscription) -> list[SubscriptionEvent]:
    return list(db.scalars(
        sa.select(SubscriptionEvent).where(SubscriptionEvent.subscription_id == subscription.id)
        .order_by(SubscriptionEvent.at, SubscriptionEvent.id)
    ))


def payments_of(db: Session, subscription: Subscription) -> list[Payment]:
    """Its payments, newest first."""
    return list(db.scalars(
        sa.select(Payment).where(Payment.subscription_id == subscription.id).order_by(Payment.id.desc())
    ))


def subscription_of(db: Session, store: Store, subscription_id: object) -> Subscription:
    """The store's subscription; NotFound for another store's, none, or an id that is not one."""
    if isinstance(subscription_id, bool) or not isinstance(subscription_id, int):
        raise NotFound("No such subscription.")
    subscription = db.get(Subscription, subscription_id)
    if subscription is None or subscription.store_id != store.id:
        raise NotFound("No such subscription.")
    return subscription


def subscription_of_checkout(db: Session, checkout_id: str) -> Subscription | None:
    return db.scalar(sa.select(Subscription).where(Subscription.checkout_session_id == checkout_id))


def subscriptions_of(
    db: Session, store: Store, *, status: SubscriptionStatus | None = None, email: str | None = None,
    before_id: int | None = None, limit: int = 50,
) -> tuple[list[Subscription], bool]:
    """A page of the store's subscriptions, newest first (keyset: ids below `before_id`),
    filtered by status and by a part of the customer's email; and whether more follow."""
    query = sa.select(Subscription).where(Subscription.store_id == store.id)
    if status is not None:
        query = query.where(Subscription.status == status)
    if email:
        needle = email.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.join(Customer, Customer.id == Subscription.customer_id).where(
            Customer.email.like(f"%{needle}%", escape="\\")
        )
    if before_id is not None:
        query = query.where(Subscription.id < before_id)
    rows = list(db.scalars(query.order_by(Subscription.id.desc()).limit(min(limit, MAX_PAGE_SIZE) + 1)))
    return rows[:limit], len(rows) > limit


def title_of(db: Session, subscription: Subscription) -> str:
    """The page's title as the first payment froze it, else the page's own, else a generic name."""
    return titles_of(db, [subscription])[subscription.id]


def titles_of(db: Session, subscriptions: list[Subscription]) -> dict[int, str]:
    """`title_of` for a page of subscriptions at once: two queries, not two per row."""
    ids = [subscription.id for subscription in subscriptions]
    first_payments = sa.select(sa.func.min(Payment.id)).where(Payment.subscription_id.in_(ids)).group_by(Payment.subscription_id)
    frozen = {
        subscription_id: ((line or {}).get("page") or {}).get("title")
        for subscription_id, line in db.execute(
            sa.select(Payment.subscription_id, Payment.line).where(Payment.id.in_(first_payments))
        )
    }
    page_ids = {s.page_id for s in subscriptions if not frozen.get(s.id) and s.page_id is not None}
    pages: dict[int | None, str] = {}
    if page_ids:  # only for subscriptions with no payment yet (a trial)
        pages.update((page_id, title) for page_id, title in db.execute(
            sa.select(Page.id, Page.title).where(Page.id.in_(page_ids))))
    return {s.id: frozen.get(s.id) or pages.get(s.page_id) or "Subscription" for s in subscriptions}


def price_text(subscription: Subscription) -> str:
    """"€9.00 every month", "$5.00 every 2 weeks": the full price per period."""
    return f"{money.format_money(subscription.amount, subscription.currency)} every {interval_text(subscription)}"


def interval_text(subscription: Subscription) -> str:
    unit = subscription.interval.value
    return unit if subscription.interval_count == 1 else f"{subscription.interval_count} {unit}s"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
