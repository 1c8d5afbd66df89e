"""Payment providers: the one each store's payments go through (SPEC §5), built with that
store's keys, and lookup by name.

A store chooses `test` or `stripe` (stores.payment_provider; None follows the platform's
`PAYMENT_PROVIDER`). A Stripe store uses its own keys when it has saved them
(stores/payment_settings.py), the platform's `STRIPE_*` keys otherwise. Stores are read by
attribute only: this package imports no domain package."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from checkie.providers.base import (
    IntentResult,
    InvalidPayload,
    InvalidSignature,
    Mode,
    PaymentProvider,
    ProviderError,
    ProviderNotConfigured,
    RefundResult,
)
from checkie.providers.stripe import StripeProvider
from checkie.providers.test import TestProvider, post_over_network
from checkie.security import decrypt_secret

__all__ = [
    "IntentResult", "InvalidPayload", "InvalidSignature", "PaymentProvider", "ProviderError", "ProviderNotConfigured",
    "RefundResult", "StripeKeys", "by_name", "for_store", "has_own_stripe_keys", "in_test_mode", "mode", "of",
    "provider_name", "stripe_for", "stripe_keys", "stripe_publishable_key", "stripe_webhook_secret",
]

@dataclass(frozen=True)
class StripeKeys:
    """The Stripe keys a store's payments use: its own, or the platform's."""

    publishable_key: str
    secret_key: str
    webhook_secret: str
    #: Whether these are the store's own keys (False: the platform's).
    own: bool

    @property
    def mode(self) -> Mode:
        """Stripe's own split: `sk_live_`/`rk_live_` keys move real money, every other key is test mode."""
        return "live" if self.secret_key.startswith(("sk_live_", "rk_live_")) else "test"


def provider_name(store) -> str:
    """`test` or `stripe`: the store's choice, or the platform default."""
    return getattr(store, "payment_provider", None) or current_app.config["PAYMENT_PROVIDER"]


def for_store(store) -> PaymentProvider:
    """The provider `store`'s new payments go through, with the store's keys."""
    return of(store, provider_name(store))


def of(store, name: str) -> PaymentProvider:
    """The provider called `name` with `store`'s keys: what refunds a payment, or charges a
    renewal, through the provider that took it even after the store switched to another."""
    return stripe_for(store) if name == StripeProvider.name else by_name(name)


def stripe_for(store) -> StripeProvider:
    """Stripe with `store`'s keys (None: the platform's); ProviderNotConfigured without any."""
    keys = stripe_keys(store)
    if keys is None:
        raise ProviderNotConfigured("Stripe has no keys for this store: add them in the store's payment settings.")
    return StripeProvider(keys.secret_key, keys.webhook_secret, current_app.config.get("STRIPE_API_BASE"))


def has_own_stripe_keys(store) -> bool:
    """Whether `store` (None: no store) saved Stripe keys of its own, which then take the place
    of the platform's in everything: API calls, Stripe.js, and the secret its events are signed with."""
    return store is not None and bool(getattr(store, "stripe_secret_key_encrypted", None))


def stripe_keys(store) -> StripeKeys | None:
    """The store's own Stripe keys when it saved them, else the platform's, else None."""
    encryption_key = current_app.config["ENCRYPTION_KEY"]
    if has_own_stripe_keys(store):
        webhook = store.stripe_webhook_secret_encrypted
        return StripeKeys(
            publishable_key=store.stripe_publishable_key or "",
            secret_key=decrypt_secret(store.stripe_secret_key_encrypted, encryption_key),
            webhook_secret=decrypt_secret(webhook, encryption_key) if webhook else "",
            own=True,
        )
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        return None
    return StripeKeys(publishable_key=config.get("STRIPE_PUBLISHABLE_KEY") or "", secret_key=config["STRIPE_SECRET_KEY"],
                      webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or "", own=False)


def stripe_publishable_key(store) -> str:
    """The publishable key `store`'s checkout hands Stripe.js ("" without Stripe keys): the same
    choice as `stripe_keys`, without decrypting anything on every checkout page."""
    if has_own_stripe_keys(store):
        return store.stripe_publishable_key or ""
    config = current_app.config
    return (config.get("STRIPE_PUBLISHABLE_KEY") or "") if config.get("STRIPE_SECRET_KEY") else ""


def stripe_webhook_secret(store) -> str:
    """The secret Stripe signs `store`'s events with: its own when it saved keys, else the
    platform's (events of the platform's account, or of a store without keys); "" if none."""
    keys = stripe_keys(store) if has_own_stripe_keys(store) else None
    return keys.webhook_secret if keys is not None else current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""


def mode(store) -> Mode:
    """Whether `store` takes test money (the test provider, or Stripe with test keys) or real money."""
    if provider_name(store) != StripeProvider.name:
        return "test"
    keys = stripe_keys(store)
    return keys.mode if keys is not None else "test"


def in_test_mode(store) -> bool:
    """Whether `store` takes test money now: the test provider, or Stripe with test keys (not
    Stripe without keys: it takes nothing yet). Its test clock may move then: renewals are
    Checkie's own off-session charges with either provider, so the clock drives them against
    Stripe's test mode too."""
    if provider_name(store) != StripeProvider.name:
        return True
    keys = stripe_keys(store)
    return keys is not None and keys.mode == "test"


def by_name(name: str) -> PaymentProvider:
    """The provider called `name` with the platform's keys; ProviderNotConfigured for one this
    platform cannot use. The test provider posts its events with `TEST_PROVIDER_TRANSPORT`
    when the app sets one (the test suite does: no server listens there), over the network otherwise."""
    config = current_app.config
    if name == TestProvider.name:
        if not config["TEST_PROVIDER_ENABLED"]:
            raise ProviderNotConfigured("The test provider is not enabled here; set PAYMENT_PROVIDER=test.")

        return TestProvider(
            app_url=config["APP_URL"], webhook_secret=config["TEST_PROVIDER_WEBHOOK_SECRET"],
            transport=config.get("TEST_PROVIDER_TRANSPORT", post_over_network),
        )
    if name == StripeProvider.name:
        return stripe_for(None)
    raise ProviderNotConfigured(f"Unknown payment provider {name!r}.")
