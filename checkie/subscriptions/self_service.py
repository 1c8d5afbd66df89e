"""What a customer may do in the portal (SPEC §6.4): their own purchases and subscriptions, and
the subscription actions the store's settings allow — cancel (always at the period's end) and
take that back when `portal_allow_cancel`, pause and resume when `portal_allow_pause`. A refused
action is a 403 and changes nothing; a move the action table refuses stays a 409.

Every read is scoped to one customer of one store: another customer's id is a 404."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.customers.models import Customer
from checkie.errors import DomainError, NotFound
from checkie.payments.models import Payment, Refund, RefundStatus
from checkie.stores.models import Store
from checkie.subscriptions import actions, services
from checkie.subscriptions.actions import Action
from checkie.subscriptions.models import CancellationReason, Subscription


class PortalActionRefused(DomainError):
    """The store does not let its customers do this themselves: 403."""

    status = 403
    code = "portal_action_not_allowed"


#: What a customer may do, per store setting.
_SETTING = {
    Action.CANCEL_AT_PERIOD_END: "portal_allow_cancel",
    Action.UNCANCEL: "portal_allow_cancel",
    Action.PAUSE: "portal_allow_pause",
    Action.RESUME: "portal_allow_pause",
}


def purchases_of(db: Session, customer: Customer) -> list[Payment]:
    """Every payment of this customer in this store, newest first."""
    return list(db.scalars(
        sa.select(Payment).where(Payment.store_id == customer.store_id, Payment.customer_id == customer.id)
        .order_by(Payment.id.desc())
    ))


def purchase_of(db: Session, customer: Customer, payment_id: object) -> Payment:
    """One of the customer's payments; NotFound for anyone else's (or none)."""
    if isinstance(payment_id, bool) or not isinstance(payment_id, int):
        raise NotFound("No such purchase.")
    payment = db.get(Payment, payment_id)
    if payment is None or payment.customer_id != customer.id or payment.store_id != customer.store_id:
        raise NotFound("No such purchase.")
    return payment


@dataclass(frozen=True)
class Receipt:
    """What templates/portal/receipt.html prints: the payment and its succeeded refunds."""

    store: Store
    customer: Customer
    payment: Payment
    refunds: list[Refund]


def receipt_of(db: Session, customer: Customer, payment_id: object) -> Receipt:
    """The receipt of one of the customer's payments; NotFound for anyone else's."""
    payment = purchase_of(db, customer, payment_id)
    refunds = list(db.scalars(sa.select(Refund).where(Refund.payment_id == payment.id,
                                                      Refund.status == RefundStatus.SUCCEEDED).order_by(Refund.id)))
    return Receipt(store=db.get_one(Store, customer.store_id), customer=customer, payment=payment, refunds=refunds)


def subscriptions_of(db: Session, customer: Customer) -> list[Subscription]:
    return list(db.scalars(
        sa.select(Subscription).where(Subscription.store_id == customer.store_id, Subscription.customer_id == customer.id)
        .order_by(Subscription.id.desc())
    ))


def subscription_of(db: Session, customer: Customer, subscription_id: object) -> Subscription:
    """One of the customer's subscriptions; NotFound for anyone else's (or none)."""
    if isinstance(subscription_id, bool) or not isinstance(subscription_id, int):
        raise NotFound("No such subscription.")
    subscription = db.get(Subscription, subscription_id)
    if subscription is None or subscription.customer_id != customer.id or subscription.store_id != customer.store_id:
        raise NotFound("No such subscription.")
    return subscription


def may(store: Store, action: Action) -> bool:
    """Whether the store lets its customers do `action` themselves (cancel now never)."""
    setting = _SETTING.get(action)
    return setting is not None and bool(getattr(store, setting))


def offered(store: Store, subscription: Subscription) -> list[Action]:
    """The actions to show the customer: allowed by the table now and by the store."""
    return [action for action in actions.allowed(subscription) if may(store, action)]


def cancel(db: Session, store: Store, subscription: Subscription, *, reason: object = None) -> Subscription:
    """Cancel at the period's end (a customer never ends a paid period early)."""
    _require(store, Action.CANCEL_AT_PERIOD_END)
    return services.cancel(db, subscription, at_period_end=True, reason=reason or CancellationReason.REQUESTED_BY_CUSTOMER.value)


def uncancel(db: Session, store: Store, subscription: Subscription) -> Subscription:
    _require(store, Action.UNCANCEL)
    return services.uncancel(db, subscription)


def pause(db: Session, store: Store, subscription: Subscription) -> Subscription:
    _require(store, Action.PAUSE)
    return services.pause(db, subscription)


def resume(db: Session, store: Store, subscription: Subscription) -> Subscription:
    """The JSON `…/resume`: take back a cancellation, or resume a paused subscription, each as
    the store allows."""
    action = Action.UNCANCEL if actions.move_for(subscription, Action.UNCANCEL) else Action.RESUME
    _require(store, action)
    return services.resume(db, subscription)


def _require(store: Store, action: Action) -> None:
    if not may(store, action):
        raise PortalActionRefused(f"{store.name} does not let customers do this here; contact the store.")
