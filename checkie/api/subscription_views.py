"""The JSON view of a subscription (SPEC §6.6), shared by the merchant API and webhook events:
one schema (subscription_schemas), so the OpenAPI document describes what events carry too."""
from __future__ import annotations

from checkie.api.subscription_schemas import SubscriptionSchema
from checkie.payments.models import Payment
from checkie.subscriptions.models import Subscription


def subscription_view(subscription: Subscription) -> dict:
    """The subscription as the API lists it and its webhook events carry it."""
    return SubscriptionSchema().dump(subscription)


def subscription_detail(subscription: Subscription, payments: list[Payment]) -> dict:
    """What SubscriptionDetailSchema dumps: the subscription's own members and its payments."""
    own = {field.attribute or name: getattr(subscription, field.attribute or name)
           for name, field in SubscriptionSchema().fields.items()}
    return {**own, "payments": payments}
