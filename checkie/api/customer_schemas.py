"""JSON shapes of a customer's detail and of a merchant's portal link (SPEC §6.6). The customer
itself (`CustomerSchema`) lives with the payments' schemas, because webhook events carry it too."""
from __future__ import annotations

from marshmallow import fields

from checkie.api.payment_schemas import CustomerSchema, PaymentSchema
from checkie.api.schemas import CamelSchema
from checkie.api.subscription_schemas import SubscriptionSchema
from checkie.customers.models import Customer
from checkie.payments.models import Payment
from checkie.payments.reports import CustomerTotals
from checkie.subscriptions.models import Subscription

#: How many of a customer's payments the detail carries; `…/customers/<id>/payments` pages through all.
DETAIL_PAYMENTS = 50


class CustomerDetailSchema(CustomerSchema):
    payments = fields.List(fields.Nested(PaymentSchema), required=True, metadata={
        "description": f"The newest {DETAIL_PAYMENTS} payments; `GET …/customers/<customerId>/payments` lists all."})
    subscriptions = fields.List(fields.Nested(SubscriptionSchema), required=True, metadata={
        "description": "Every subscription of the customer, newest first."})


class PortalLinkSchema(CamelSchema):
    url = fields.String(required=True, metadata={
        "description": "A pre-authenticated portal link: single use; opening it shows Sign in, its POST signs in."})
    expires_at = fields.DateTime(required=True, metadata={"description": "30 minutes from now, or earlier if replaced."})


def customer_view(customer: Customer, totals: CustomerTotals) -> dict:
    """What CustomerSchema dumps: the row's members and the customer's totals."""
    return {"id": customer.id, "email": customer.email, "name": customer.name, "created_at": customer.created_at,
            "payment_count": totals.payment_count, "total_spent": totals.total_spent}


def customer_detail(customer: Customer, totals: CustomerTotals, payments: list[Payment],
                    subscriptions: list[Subscription]) -> dict:
    return {**customer_view(customer, totals), "payments": payments, "subscriptions": subscriptions}
