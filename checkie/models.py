"""Imports every domain's models so SQLAlchemy and Alembic see all tables."""
from checkie.accounts.models import RefreshToken, User, UserToken
from checkie.catalog.models import (
    Coupon,
    CustomField,
    Embed,
    Page,
    PageStats,
    Variant,
    VariantOption,
)
from checkie.checkout.models import (
    CheckoutSession,
    CheckoutSessionTransition,
    IdempotencyKey,
)
from checkie.customers.models import Customer, PortalLink, PortalSession
from checkie.notifications.models import EmailMessage
from checkie.payments.models import (
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    Payout,
    PayoutAccount,
    ProviderEvent,
    StoreBalance,
    TestProviderEvent,
)
from checkie.providers.test_payouts import TestProviderPayout
from checkie.stores.models import ApiKey, Store, StoreMember
from checkie.subscriptions.models import Subscription, SubscriptionEvent, SubscriptionRenewal, TestClock
from checkie.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "CheckoutSession", "CheckoutSessionTransition", "IdempotencyKey", "Customer", "PortalLink", "PortalSession",
    "Payment", "PaymentAttempt", "ProviderEvent", "StoreBalance", "BalanceTransaction", "TestProviderEvent",
    "PayoutAccount", "Payout", "TestProviderPayout",
    "Page", "Variant", "VariantOption", "CustomField", "Coupon", "Embed", "PageStats",
    "User", "UserToken", "RefreshToken", "Store", "StoreMember", "ApiKey", "EmailMessage",
    "WebhookEndpoint", "WebhookEvent", "WebhookDelivery", "WebhookAttempt",
    "Subscription", "SubscriptionRenewal", "SubscriptionEvent", "TestClock"]
