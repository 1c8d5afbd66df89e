"""A store's payment provider and its Stripe keys (SPEC §5, §9): which PSP the store's new
payments go through, the keys it uses, whether they take test or real money, and a check that
they work.

The secret key and the webhook signing secret are stored AES-256-GCM encrypted with
ENCRYPTION_KEY and never shown again: the settings show the publishable key (it is public: it
ships in every checkout page), a hint of the secret key (`sk_test_…4242`) and whether a webhook
secret is set. A blank key in an update keeps the saved one, so a form need never echo a secret."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from checkie import providers
from checkie.errors import DomainError, ValidationFailed
from checkie.providers import Mode, ProviderError, ProviderNotConfigured
from checkie.providers.stripe import INTENT_EVENTS, PAYOUT_EVENTS
from checkie.security import encrypt_secret
from checkie.stores.models import Store

#: What a store may choose; "default" follows the platform's PAYMENT_PROVIDER.
PROVIDER_CHOICES = ("default", "test", "stripe")
PUBLISHABLE_KEY = re.compile(r"pk_(test|live)_[A-Za-z0-9_]{8,240}")
#: A secret key, or a restricted key (`rk_…`) with the rights Checkie uses.
SECRET_KEY = re.compile(r"[sr]k_(test|live)_[A-Za-z0-9_]{8,240}")
WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=_-]{8,240}")
#: Where a store's Stripe account must send its events (after APP_URL), and the types Checkie
#: reads there: the merchant subscribes their endpoint to exactly these in Stripe's dashboard.
STRIPE_WEBHOOK_PATH = "/api/webhooks/stripe"
STRIPE_WEBHOOK_EVENTS = tuple(sorted(INTENT_EVENTS | PAYOUT_EVENTS))


class ConnectionFailed(DomainError):
    """Stripe refused the store's keys (or could not be reached) when asked to check them."""

    status = 422
    code = "connection_failed"


@dataclass(frozen=True)
class PaymentSettings:
    """What the settings page and the JSON API show; never a secret."""

    #: The store's choice: `default`, `test` or `stripe`.
    choice: str
    #: The provider its payments go through now (the choice, or the platform's default).
    provider: str
    mode: Mode
    publishable_key: str | None
    secret_key_hint: str | None
    webhook_secret_set: bool
    #: Whether the platform has Stripe keys a Stripe store without its own would use.
    platform_stripe_keys: bool
    #: Whether the test provider can be chosen on this platform (not in production with Stripe).
    test_provider_available: bool


def settings_of(store: Store) -> PaymentSettings:
    return PaymentSettings(
        choice=store.payment_provider or "default", provider=providers.provider_name(store), mode=providers.mode(store),
        publishable_key=store.stripe_publishable_key, secret_key_hint=store.stripe_secret_key_hint,
        webhook_secret_set=bool(store.stripe_webhook_secret_encrypted),
        platform_stripe_keys=bool(current_app.config.get("STRIPE_SECRET_KEY")),
        test_provider_available=bool(current_app.config["TEST_PROVIDER_ENABLED"]),
    )


def stripe_webhook_url(app_url: str) -> str:
    return app_url.rstrip("/") + STRIPE_WEBHOOK_PATH


def update_payment_settings(db: Session, store: Store, *, provider: str | None = None, publishable_key: str | None = None,
                            secret_key: str | None = None, webhook_secret: str | None = None,
                            remove_stripe_keys: bool = False) -> PaymentSettings:
    """Choose the provider and save Stripe keys; None or "" leaves a value as it is. Every
    problem is reported at once (ValidationFailed, nothing changed): a key of the wrong shape,
    publishable and secret keys of different modes (one test, one live), own keys without a
    webhook secret (events from the store's Stripe account could not be verified), or Stripe
    chosen with no keys at all. `remove_stripe_keys` forgets the store's own keys (the
    platform's are used, if any)."""
    problems: dict[str, list[str]] = {}
    choice = _check_choice(provider, problems)
    publishable = _check_key(publishable_key, PUBLISHABLE_KEY, "publishable_key", problems,
                             "Enter the publishable key from Stripe's dashboard (pk_test_… or pk_live_…).")
    secret = _check_key(secret_key, SECRET_KEY, "secret_key", problems,
                        "Enter the secret key from Stripe's dashboard (sk_test_… or sk_live_…).")
    webhook = _check_key(webhook_secret, WEBHOOK_SECRET, "webhook_secret", problems,
                         "Enter the signing secret of your Stripe webhook endpoint (whsec_…).")
    if problems:
        raise ValidationFailed("Check the payment settings.", fields=problems)

    keeps_own_keys = not remove_stripe_keys
    final_publishable = publishable or (store.stripe_publishable_key if keeps_own_keys else None)
    has_secret = bool(secret or (keeps_own_keys and store.stripe_secret_key_encrypted))
    has_webhook = bool(webhook or (keeps_own_keys and store.stripe_webhook_secret_encrypted))
    secret_mode = _mode_of(secret) if secret else (_mode_of(store.stripe_secret_key_hint or "") if has_secret else None)
    _check_own_keys(final_publishable, has_secret, has_webhook, secret_mode, problems)
    final_choice = store.payment_provider if choice is None else (None if choice == "default" else choice)
    chosen = final_choice or current_app.config["PAYMENT_PROVIDER"]
    if chosen == "stripe" and not has_secret and not current_app.config.get("STRIPE_SECRET_KEY"):
        problems.setdefault("secret_key", []).append("Stripe needs your keys: enter them to take payments with Stripe.")
    if problems:
        raise ValidationFailed("Check the payment settings.", fields=problems)

    _save(store, final_choice, publishable, secret, webhook, remove_stripe_keys)
    db.flush()
    return settings_of(store)


def check_connection(store: Store) -> Mode:
    """Whether the store's Stripe keys work: Stripe's answer (test or live), or ConnectionFailed."""
    try:
        provider = providers.stripe_for(store)
    except ProviderNotConfigured as error:
        raise ConnectionFailed(error.message) from None
    try:
        return provider.check_connection()
    except ProviderError:
        raise ConnectionFailed("Stripe refused these keys, or could not be reached. Check the secret key.") from None


def _check_choice(provider: str | None, problems: dict[str, list[str]]) -> str | None:
    if provider is None or provider == "":
        return None
    if provider not in PROVIDER_CHOICES:
        problems["provider"] = ["Choose the test provider or Stripe."]
        return None
    if provider == "test" and not current_app.config["TEST_PROVIDER_ENABLED"]:
        problems["provider"] = ["The test provider is not available on this platform."]
        return None
    return provider


def _check_key(value: str | None, pattern: re.Pattern, field: str, problems: dict[str, list[str]], message: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not pattern.fullmatch(value):
        problems[field] = [message]  # never the value: it may be a secret pasted in the wrong box
        return None
    return value


def _check_own_keys(publishable: str | None, has_secret: bool, has_webhook: bool, secret_mode: str | None,
                    problems: dict[str, list[str]]) -> None:
    if not has_secret:
        if publishable or has_webhook:
            problems["secret_key"] = ["Enter the secret key too: Checkie needs it to take payments."]
        return
    if not publishable:
        problems["publishable_key"] = ["Enter the publishable key too: the checkout's card field needs it."]
    elif _mode_of(publishable) != secret_mode:
        problems["publishable_key"] = ["The publishable key and the secret key must both be test keys or both live keys."]
    if not has_webhook:
        problems["webhook_secret"] = ["Enter the webhook signing secret too: Checkie checks Stripe's events with it."]


def _mode_of(key: str) -> Mode:
    return "live" if "_live_" in key[:8] else "test"


def _hint(secret: str) -> str:
    """`sk_test_…4242`: enough to recognise a key, nothing to use."""
    prefix = secret[: secret.index("_", 3) + 1]
    return f"{prefix}…{secret[-4:]}"


def _save(store: Store, choice: str | None, publishable: str | None, secret: str | None, webhook: str | None,
          remove_stripe_keys: bool) -> None:
    encryption_key = current_app.config["ENCRYPTION_KEY"]
    store.payment_provider = choice
    if remove_stripe_keys:
        store.stripe_publishable_key = store.stripe_secret_key_encrypted = None
        store.stripe_secret_key_hint = store.stripe_webhook_secret_encrypted = None
    if publishable:
        store.stripe_publishable_key = publishable
    if secret:
        store.stripe_secret_key_encrypted = encrypt_secret(secret, encryption_key)
        store.stripe_secret_key_hint = _hint(secret)
    if webhook:
        store.stripe_webhook_secret_encrypted = encrypt_secret(webhook, encryption_key)
