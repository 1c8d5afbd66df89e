"""Payment providers: the platform's choice per store (SPEC §5) and lookup by name.

Only the built-in `test` provider exists so far; `stripe` arrives with its own issue."""
from __future__ import annotations

from flask import current_app

from checkie.providers.base import (
    IntentResult,
    InvalidPayload,
    InvalidSignature,
    PaymentProvider,
    ProviderNotConfigured,
    RefundResult,
)
from checkie.providers.test import TestProvider, post_over_network

__all__ = [
    "IntentResult", "InvalidPayload", "InvalidSignature", "PaymentProvider", "ProviderNotConfigured", "RefundResult",
    "by_name", "for_store", "in_test_mode",
]


def for_store(store) -> PaymentProvider:
    """The provider `store`'s payments go through: the platform default `PAYMENT_PROVIDER`
    (stores cannot choose their own yet)."""
    return by_name(current_app.config["PAYMENT_PROVIDER"])


def in_test_mode(store) -> bool:
    """Whether `store`'s payments go through the test provider (its test clock may move then)."""
    try:
        return for_store(store).name == TestProvider.name
    except ProviderNotConfigured:
        return False


def by_name(name: str) -> PaymentProvider:
    """The provider called `name`; ProviderNotConfigured for one this platform cannot use. The
    test provider posts its events with `TEST_PROVIDER_TRANSPORT` when the app sets one (the
    test suite does: no server listens there), over the network otherwise."""
    config = current_app.config
    if name == "test":
        if not config["TEST_PROVIDER_ENABLED"]:
            raise ProviderNotConfigured("The test provider is not enabled here; set PAYMENT_PROVIDER=test.")

        return TestProvider(
            app_url=config["APP_URL"], webhook_secret=config["TEST_PROVIDER_WEBHOOK_SECRET"],
            transport=config.get("TEST_PROVIDER_TRANSPORT", post_over_network),
        )
    if name == "stripe":
        raise ProviderNotConfigured("The Stripe provider is not available yet; set PAYMENT_PROVIDER=test.")
    raise ProviderNotConfigured(f"Unknown payment provider {name!r}.")
