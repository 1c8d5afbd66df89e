"""What webhook events carry as `data` (SPEC §6.6): the JSON API's own view of the object, so a
merchant's system reads an event's payment exactly as `GET /api/stores/<id>/payments/<id>`
answers it. The webhooks package sits below the domains and may not import the api, so the
api registers these views with it when it starts (`init_api`)."""
from __future__ import annotations

from checkie.api.checkout_schemas import CheckoutSessionDetailSchema
from checkie.api.checkout_sessions import checkout_detail
from checkie.api.payment_schemas import CustomerSchema, PaymentSchema, RefundSchema
from checkie.api.payout_schemas import payout_view
from checkie.api.subscription_schemas import SubscriptionSchema
from checkie.checkout.models import CheckoutSession
from checkie.customers.models import Customer
from checkie.payments.models import Payment, Payout
from checkie.payments.refunds import RefundedPayment
from checkie.subscriptions.models import Subscription
from checkie.webhooks import views


def register_event_views() -> None:
    views.register(Payment, lambda payment: PaymentSchema().dump(payment))
    views.register(RefundedPayment, lambda refunded: {
        **PaymentSchema().dump(refunded.payment), "refund": RefundSchema().dump(refunded.refund),
    })
    views.register(Payout, payout_view)
    views.register(Subscription, lambda subscription: SubscriptionSchema().dump(subscription))
    views.register(Customer, lambda customer: CustomerSchema().dump(customer))
    views.register(CheckoutSession, lambda checkout: CheckoutSessionDetailSchema().dump(checkout_detail(checkout)))
