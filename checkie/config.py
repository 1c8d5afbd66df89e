"""Settings from the environment, validated once at start-up (SPEC §10).

Only environment variables choose the runtime profile: no DATABASE_URL means the embedded
SQLite default, no REDIS_URL means Huey on SQLite and rate limits in memory.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from limits import parse_many

ENVIRONMENTS = ("development", "test", "production")

#: Values that ship in docs and examples; production refuses to run with them.
DEV_SECRET = "dev-insecure-change-me"
DEV_JWT_SECRET = DEV_SECRET + "-jwt-signing-key"  # ≥ 32 bytes, or PyJWT warns on every token
DEV_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWVuY3J5cHRpb24ta2V5LTMyYiE="  # base64 of 32 bytes
DEV_TEST_PROVIDER_SECRET = "whsec_checkie_test_provider"
_DEV_SECRETS = (DEV_SECRET, DEV_JWT_SECRET, DEV_ENCRYPTION_KEY, DEV_TEST_PROVIDER_SECRET)

_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "seconds"}


class ConfigError(RuntimeError):
    """The environment describes an app that must not start; the message names every problem."""


def parse_duration(value: str) -> timedelta:
    """'15m' → 15 minutes, '7d' → 7 days, '90' → 90 seconds."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 15m, 7d, 3600)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _check_encryption_key(value: str) -> str | None:
    """A problem with ENCRYPTION_KEY, or None. Checked in every environment: a key that does
    not decode to 32 bytes would only fail later, the first time a secret is encrypted."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "ENCRYPTION_KEY must be base64 (e.g. the output of `openssl rand -base64 32`)"
    if len(key) != 32:
        return f"ENCRYPTION_KEY must decode to 32 bytes for AES-256-GCM, not {len(key)}"
    return None


class _EnvReader:
    """Reads typed values from the environment, collecting every problem instead of stopping
    at the first, so an operator fixes a bad deployment in one pass."""

    def __init__(self, env: Mapping[str, str], production: bool):
        self.env, self.production = env, production
        self.problems: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        return self.env.get(name, default)

    def flag(self, name: str, default: str = "0") -> bool:
        return _flag(self.env.get(name, default))

    def duration(self, name: str, default: str) -> timedelta:
        try:
            value = parse_duration(self.env.get(name, default))
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return parse_duration(default)
        if not value:
            self.problems.append(f"{name} must be longer than zero")
        return value

    def positive_number(self, name: str, default: str) -> float:
        try:
            value = float(self.env.get(name, default))
        except ValueError:
            self.problems.append(f"{name} must be a number, not {self.env.get(name)!r}")
            return float(default)
        if not value > 0:  # also refuses NaN
            self.problems.append(f"{name} must be greater than zero")
        return value

    def count(self, name: str, default: str) -> int:
        value = self.env.get(name, default)
        if not value.isdigit():
            self.problems.append(f"{name} must be a whole number ≥ 0, not {value!r}")
            return int(default)
        return int(value)

    def byte_size(self, name: str, default: str) -> int:
        value = self.count(name, default)
        if not value:
            self.problems.append(f"{name} must be a number of bytes greater than zero")
        return value

    def fraction(self, name: str, default: str) -> Decimal:
        try:
            value = Decimal(self.env.get(name, default))
            if Decimal(0) <= value < Decimal(1):
                return value
        except InvalidOperation:
            pass
        self.problems.append(f"{name} must be a fraction between 0 and 1, e.g. {default}")
        return Decimal(default)

    def major_amount(self, name: str, default: str) -> Decimal:
        """A non-negative amount in a currency's major unit (`1.00`), at most two decimals."""
        try:
            value = Decimal(self.env.get(name, default))
            if value.is_finite() and value >= 0 and value == value.quantize(Decimal("0.01")):
                return value
        except InvalidOperation:
            pass
        self.problems.append(f"{name} must be an amount in the major unit with at most two decimals, e.g. {default}")
        return Decimal(default)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.env.get(name, default)
        if value not in choices:
            self.problems.append(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def rate_limit(self, name: str, default: str) -> str:
        value = self.env.get(name, default)
        try:
            parse_many(value)
        except ValueError:
            self.problems.append(f"{name} must be a rate limit such as 30/minute, not {value!r}")
            return default
        return value

    def secret(self, name: str, default: str, *, min_length: int = 0) -> str:
        """Production refuses a missing secret, one of the published development defaults, or
        one too short to resist guessing (HS256 wants a key of at least 32 bytes)."""
        value = self.env.get(name, "")
        if self.production and (not value or value in _DEV_SECRETS):
            self.problems.append(
                f"{name} must be set to a unique secret in production (it is missing or the development default)"
            )
        elif self.production and len(value) < min_length:
            self.problems.append(f"{name} must be at least {min_length} characters (e.g. `openssl rand -hex 32`)")
        return value or default

    def encryption_key(self) -> str:
        value = self.secret("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY)
        problem = _check_encryption_key(value)
        if problem:
            self.problems.append(problem)
        return value


def _engine_options(database_url: str) -> dict:
    options: dict = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        # psycopg waits forever for an unreachable server by default; fail fast instead so
        # requests and /readyz answer rather than hang.
        options["connect_args"] = {"connect_timeout": 5}
    return options


def load_config(env: Mapping[str, str], instance_path: str) -> dict:
    """Build the Flask config mapping from `env`; raise ConfigError listing everything wrong."""
    checkie_env = env.get("CHECKIE_ENV", "development")
    production = checkie_env == "production"
    read = _EnvReader(env, production)
    read.choice("CHECKIE_ENV", ENVIRONMENTS, "development")
    database_url = env.get("DATABASE_URL") or "sqlite:///" + str(Path(instance_path) / "checkie.db")
    redis_url = env.get("REDIS_URL") or None
    config = {
        "CHECKIE_ENV": checkie_env,
        "DEBUG": False,
        "TESTING": checkie_env == "test",
        "SECRET_KEY": read.secret("SECRET_KEY", DEV_SECRET, min_length=32),
        "JWT_SECRET": read.secret("JWT_SECRET", DEV_JWT_SECRET, min_length=32),
        "ENCRYPTION_KEY": read.encryption_key(),
        "JWT_EXPIRATION": read.duration("JWT_EXPIRATION", "15m"),
        "REFRESH_TOKEN_EXPIRATION": read.duration("REFRESH_TOKEN_EXPIRATION", "7d"),
        "CHECKOUT_SESSION_TTL": read.duration("CHECKOUT_SESSION_TTL", "60m"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "REDIS_URL": redis_url,
        "APP_URL": read.text("APP_URL", "http://127.0.0.1:5000").rstrip("/"),
        #: Reverse proxies in front of the app whose X-Forwarded-* headers are trusted; without
        #: it, every client behind a proxy shares the proxy's IP in the per-IP rate limits.
        "PROXY_HOPS": read.count("PROXY_HOPS", "0"),
        **_payment_settings(read, production),
        "SMTP_URL": read.text("SMTP_URL"),
        "MAIL_FROM": read.text("MAIL_FROM", "Checkie <no-reply@checkie.localhost>"),
        **_webhook_settings(read, production),
        "HUEY_IMMEDIATE": read.flag("HUEY_IMMEDIATE"),
        # Larger request bodies are a 413 before anything reads them (no form or body needs more).
        "MAX_CONTENT_LENGTH": read.byte_size("MAX_CONTENT_LENGTH", str(1024 * 1024)),
        **_rate_limit_settings(read, redis_url),
        **_cookie_settings(production),
        # Production logs are JSON lines with the request id, plus one access line per request.
        "LOG_JSON": read.flag("LOG_JSON", "1" if production else "0"),
        "ACCESS_LOG": read.flag("ACCESS_LOG", "1" if production else "0"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        **API_DOCUMENT_SETTINGS,
    }
    if read.problems:
        raise ConfigError("Checkie cannot start:\n  - " + "\n  - ".join(read.problems))
    return config


def _payment_settings(read: _EnvReader, production: bool) -> dict:
    payment_provider = read.choice("PAYMENT_PROVIDER", ("test", "stripe"), "test")
    # Whoever holds the test provider's secret can complete any checkout, so production serves
    # it only when it is the platform's provider on purpose (a demo in test mode), with a
    # secret of its own; elsewhere its 3DS pages and webhook route answer 404.
    test_provider_enabled = not production or payment_provider == "test"
    return {
        "PAYMENT_PROVIDER": payment_provider,
        "PLATFORM_FEE_PERCENT": read.fraction("PLATFORM_FEE_PERCENT", "0.029"),
        "PAYOUT_MINIMUM": read.major_amount("PAYOUT_MINIMUM", "1.00"),
        "STRIPE_SECRET_KEY": read.text("STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": read.text("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": read.text("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": read.text("STRIPE_API_BASE"),
        "STRIPE_JS_URL": read.text("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        "TEST_PROVIDER_ENABLED": test_provider_enabled,
        "TEST_PROVIDER_WEBHOOK_SECRET": (
            read.secret("TEST_PROVIDER_WEBHOOK_SECRET", DEV_TEST_PROVIDER_SECRET, min_length=32)
            if test_provider_enabled else ""
        ),
    }


def _webhook_settings(read: _EnvReader, production: bool) -> dict:
    allow_private = read.flag("WEBHOOK_ALLOW_PRIVATE_URLS")
    if production and allow_private:
        read.problems.append("WEBHOOK_ALLOW_PRIVATE_URLS must not be set in production")
    return {
        "WEBHOOK_RETRY_BASE_SECONDS": read.positive_number("WEBHOOK_RETRY_BASE_SECONDS", "60"),
        "WEBHOOK_ALLOW_PRIVATE_URLS": allow_private,
    }


def _rate_limit_settings(read: _EnvReader, redis_url: str | None) -> dict:
    """Flask-Limiter: Redis when configured, so every web process shares the counters."""
    # Also the prefix of the limiter's Redis keys, so that resetting one deployment's (or one
    # test run's) counters never wipes another's sharing the same Redis.
    prefix = read.text("RATELIMIT_KEY_PREFIX", "checkie")
    return {
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": prefix,
        # A Redis that is down or hangs must not take the checkout and log-in with it: give up on
        # it within a second and count in this process's memory until it answers again
        # (checkie.ops.metrics counts each time, and /readyz says 503 meanwhile).
        "RATELIMIT_STORAGE_OPTIONS": (
            {"key_prefix": f"limits:{prefix}", "socket_connect_timeout": 1, "socket_timeout": 1}
            if redis_url else {}
        ),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # No X-RateLimit-* headers: each limited request would pay a GET and a TTL round trip
        # for them; a 429 still carries Retry-After (checkie.extensions.Limiter).
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_ENABLED": not read.flag("RATELIMIT_DISABLED"),
        "WIDGET_RATE_LIMIT": read.rate_limit("WIDGET_RATE_LIMIT", "30/minute"),
    }


def _cookie_settings(production: bool) -> dict:
    """HttpOnly + Lax everywhere; Secure and the __Host- prefix in production."""
    return {
        "SESSION_COOKIE_NAME": "__Host-checkie" if production else "checkie",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": production,
    }


#: flask-smorest's OpenAPI document.
API_DOCUMENT_SETTINGS = {
    "API_TITLE": "Checkie API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def config_from_environment(instance_path: str) -> dict:
    return load_config(os.environ, instance_path)
