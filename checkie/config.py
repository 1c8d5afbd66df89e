"""Settings from the environment, validated once at start-up (SPEC §10).

Only environment variables choose the runtime profile: no DATABASE_URL means the embedded
SQLite default, no REDIS_URL means Huey on SQLite and rate limits in memory.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

ENVIRONMENTS = ("development", "test", "production")

#: Values that ship in docs and examples; production refuses to run with them.
DEV_SECRET = "dev-insecure-change-me"
DEV_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWVuY3J5cHRpb24ta2V5LTMyYiE="  # base64 of 32 bytes

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


def load_config(env: Mapping[str, str], instance_path: str) -> dict:
    """Build the Flask config mapping from `env`; raise ConfigError listing everything wrong."""
    problems: list[str] = []
    checkie_env = env.get("CHECKIE_ENV", "development")
    if checkie_env not in ENVIRONMENTS:
        problems.append(f"CHECKIE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {checkie_env!r}")
    production = checkie_env == "production"

    def duration(name: str, default: str) -> timedelta:
        try:
            return parse_duration(env.get(name, default))
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return parse_duration(default)

    def secret(name: str, default: str) -> str:
        value = env.get(name, "")
        if production and (not value or value in (DEV_SECRET, DEV_ENCRYPTION_KEY)):
            problems.append(f"{name} must be set to a unique secret in production")
        return value or default

    database_url = env.get("DATABASE_URL") or "sqlite:///" + str(Path(instance_path) / "checkie.db")
    redis_url = env.get("REDIS_URL") or None
    try:
        fee = Decimal(env.get("PLATFORM_FEE_PERCENT", "0.029"))
        if not Decimal(0) <= fee < Decimal(1):
            raise InvalidOperation
    except InvalidOperation:
        problems.append("PLATFORM_FEE_PERCENT must be a fraction between 0 and 1, e.g. 0.029")
        fee = Decimal("0.029")
    allow_private = _flag(env.get("WEBHOOK_ALLOW_PRIVATE_URLS"))
    if production and allow_private:
        problems.append("WEBHOOK_ALLOW_PRIVATE_URLS must not be set in production")
    provider = env.get("PAYMENT_PROVIDER", "test")
    if provider not in ("test", "stripe"):
        problems.append(f"PAYMENT_PROVIDER must be test or stripe, not {provider!r}")

    config = {
        "CHECKIE_ENV": checkie_env,
        "DEBUG": False,
        "TESTING": checkie_env == "test",
        "SECRET_KEY": secret("SECRET_KEY", DEV_SECRET),
        "JWT_SECRET": secret("JWT_SECRET", DEV_SECRET + "-jwt"),
        "ENCRYPTION_KEY": secret("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY),
        "JWT_EXPIRATION": duration("JWT_EXPIRATION", "15m"),
        "REFRESH_TOKEN_EXPIRATION": duration("REFRESH_TOKEN_EXPIRATION", "7d"),
        "CHECKOUT_SESSION_TTL": duration("CHECKOUT_SESSION_TTL", "60m"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "APP_URL": env.get("APP_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PAYMENT_PROVIDER": provider,
        "PLATFORM_FEE_PERCENT": fee,
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": env.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        "TEST_PROVIDER_WEBHOOK_SECRET": env.get("TEST_PROVIDER_WEBHOOK_SECRET", "whsec_checkie_test_provider"),
        "SMTP_URL": env.get("SMTP_URL", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Checkie <no-reply@checkie.localhost>"),
        "WEBHOOK_RETRY_BASE_SECONDS": float(env.get("WEBHOOK_RETRY_BASE_SECONDS", "60")),
        "WEBHOOK_ALLOW_PRIVATE_URLS": allow_private,
        "WIDGET_RATE_LIMIT": env.get("WIDGET_RATE_LIMIT", "30/minute"),
        "HUEY_IMMEDIATE": _flag(env.get("HUEY_IMMEDIATE")),
        # Flask-Limiter: Redis when configured so every web process shares the counters.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "checkie"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": not _flag(env.get("RATELIMIT_DISABLED")),
        # Cookies: HttpOnly + Lax everywhere; Secure and the __Host- prefix in production.
        "SESSION_COOKIE_NAME": "__Host-checkie" if production else "checkie",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": production,
        "LOG_JSON": _flag(env.get("LOG_JSON", "1" if production else "0")),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # flask-smorest / OpenAPI
        "API_TITLE": "Checkie API",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    if problems:
        raise ConfigError("Checkie cannot start:\n  - " + "\n  - ".join(problems))
    return config


def config_from_environment(instance_path: str) -> dict:
    return load_config(os.environ, instance_path)
