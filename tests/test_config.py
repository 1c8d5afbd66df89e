"""Settings from the environment: defaults, parsing, and refusing to start a bad production."""
import base64
from datetime import timedelta
from decimal import Decimal

import pytest

from checkie.config import (
    DEV_ENCRYPTION_KEY,
    DEV_JWT_SECRET,
    DEV_SECRET,
    DEV_TEST_PROVIDER_SECRET,
    ConfigError,
    load_config,
    parse_duration,
)

GOOD_KEY = base64.b64encode(bytes(range(32))).decode()
PRODUCTION = {
    "CHECKIE_ENV": "production",
    "SECRET_KEY": "a-real-secret-key-from-the-vault",
    "JWT_SECRET": "another-real-secret-from-the-vault",
    "ENCRYPTION_KEY": GOOD_KEY,
    "DATABASE_URL": "postgresql+psycopg://checkie@db/checkie",
    "REDIS_URL": "redis://redis:6379/0",
    # PAYMENT_PROVIDER defaults to `test`: a production demo in test mode needs its own secret.
    "TEST_PROVIDER_WEBHOOK_SECRET": "whsec_a-demo-secret-of-this-deployment-only",
}


def refusal(env: dict, tmp_path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(env, str(tmp_path))
    return str(raised.value)


def test_embedded_defaults(tmp_path):
    config = load_config({}, str(tmp_path))
    assert config["CHECKIE_ENV"] == "development" and not config["TESTING"]
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/checkie.db"
    assert config["REDIS_URL"] is None and config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["JWT_EXPIRATION"] == timedelta(minutes=15)
    assert config["REFRESH_TOKEN_EXPIRATION"] == timedelta(days=7)
    assert config["CHECKOUT_SESSION_TTL"] == timedelta(minutes=60)
    assert config["PLATFORM_FEE_PERCENT"] == Decimal("0.029")
    assert config["WEBHOOK_RETRY_BASE_SECONDS"] == 60.0
    assert config["SESSION_COOKIE_NAME"] == "checkie" and not config["SESSION_COOKIE_SECURE"]
    assert not config["LOG_JSON"] and not config["ACCESS_LOG"] and not config["HUEY_IMMEDIATE"]


def test_a_good_production_environment(tmp_path):
    config = load_config(PRODUCTION, str(tmp_path))
    assert config["SESSION_COOKIE_NAME"] == "__Host-checkie"
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["LOG_JSON"] and config["ACCESS_LOG"]
    assert config["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 5}


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET", "ENCRYPTION_KEY"])
def test_production_refuses_a_missing_secret(tmp_path, name):
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    assert f"{name} must be set to a unique secret in production" in refusal(env, tmp_path)


@pytest.mark.parametrize(
    "name, default", [("SECRET_KEY", DEV_SECRET), ("JWT_SECRET", DEV_JWT_SECRET), ("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY)]
)
def test_production_refuses_the_development_defaults(tmp_path, name, default):
    assert f"{name} must be set to a unique secret" in refusal({**PRODUCTION, name: default}, tmp_path)


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET"])
def test_production_refuses_short_secrets(tmp_path, name):
    message = refusal({**PRODUCTION, name: "x" * 31}, tmp_path)
    assert f"{name} must be at least 32 characters" in message
    assert load_config({**PRODUCTION, name: "x" * 32}, str(tmp_path))[name] == "x" * 32


def test_production_refuses_private_webhook_urls(tmp_path):
    message = refusal({**PRODUCTION, "WEBHOOK_ALLOW_PRIVATE_URLS": "1"}, tmp_path)
    assert "WEBHOOK_ALLOW_PRIVATE_URLS must not be set in production" in message


def test_every_problem_is_named_at_once(tmp_path):
    message = refusal({"CHECKIE_ENV": "production", "WEBHOOK_ALLOW_PRIVATE_URLS": "true", "JWT_EXPIRATION": "soon"}, tmp_path)
    for name in ("SECRET_KEY", "JWT_SECRET", "ENCRYPTION_KEY", "WEBHOOK_ALLOW_PRIVATE_URLS", "JWT_EXPIRATION"):
        assert name in message
    assert message.startswith("Checkie cannot start:")


def test_development_keeps_working_defaults(tmp_path):
    config = load_config({"CHECKIE_ENV": "development", "WEBHOOK_ALLOW_PRIVATE_URLS": "1"}, str(tmp_path))
    assert config["SECRET_KEY"] == DEV_SECRET and config["ENCRYPTION_KEY"] == DEV_ENCRYPTION_KEY
    assert config["WEBHOOK_ALLOW_PRIVATE_URLS"] is True
    assert config["TEST_PROVIDER_ENABLED"] and config["TEST_PROVIDER_WEBHOOK_SECRET"] == DEV_TEST_PROVIDER_SECRET


@pytest.mark.parametrize("environment", ["development", "test"])
def test_the_test_provider_is_always_there_outside_production(tmp_path, environment):
    config = load_config({"CHECKIE_ENV": environment, "PAYMENT_PROVIDER": "stripe"}, str(tmp_path))
    assert config["TEST_PROVIDER_ENABLED"] and config["TEST_PROVIDER_WEBHOOK_SECRET"] == DEV_TEST_PROVIDER_SECRET


@pytest.mark.parametrize("value", [None, "", DEV_TEST_PROVIDER_SECRET])
def test_production_with_the_test_provider_refuses_the_published_secret(tmp_path, value):
    env = {k: v for k, v in PRODUCTION.items() if k != "TEST_PROVIDER_WEBHOOK_SECRET"}
    if value is not None:
        env["TEST_PROVIDER_WEBHOOK_SECRET"] = value
    assert "TEST_PROVIDER_WEBHOOK_SECRET must be set to a unique secret in production" in refusal(env, tmp_path)
    assert "TEST_PROVIDER_WEBHOOK_SECRET" in refusal({**env, "PAYMENT_PROVIDER": "test"}, tmp_path)


def test_production_refuses_a_short_test_provider_secret(tmp_path):
    message = refusal({**PRODUCTION, "TEST_PROVIDER_WEBHOOK_SECRET": "whsec_short"}, tmp_path)
    assert "TEST_PROVIDER_WEBHOOK_SECRET must be at least 32 characters" in message


def test_a_production_demo_in_test_mode_runs_with_its_own_secret(tmp_path):
    config = load_config(PRODUCTION, str(tmp_path))
    assert config["PAYMENT_PROVIDER"] == "test" and config["TEST_PROVIDER_ENABLED"]
    assert config["TEST_PROVIDER_WEBHOOK_SECRET"] == PRODUCTION["TEST_PROVIDER_WEBHOOK_SECRET"]


def test_production_on_stripe_has_no_test_provider(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "TEST_PROVIDER_WEBHOOK_SECRET"}
    config = load_config({**env, "PAYMENT_PROVIDER": "stripe"}, str(tmp_path))
    assert not config["TEST_PROVIDER_ENABLED"] and config["TEST_PROVIDER_WEBHOOK_SECRET"] == ""
    # A secret set by mistake changes nothing: the provider must be chosen on purpose.
    config = load_config({**PRODUCTION, "PAYMENT_PROVIDER": "stripe"}, str(tmp_path))
    assert not config["TEST_PROVIDER_ENABLED"] and config["TEST_PROVIDER_WEBHOOK_SECRET"] == ""


@pytest.mark.parametrize(
    "key, problem",
    [
        ("not base64!!", "ENCRYPTION_KEY must be base64"),
        (base64.b64encode(b"too short").decode(), "must decode to 32 bytes for AES-256-GCM, not 9"),
        (base64.b64encode(bytes(64)).decode(), "not 64"),
    ],
)
@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_encryption_key_must_be_32_bytes_of_base64_everywhere(tmp_path, key, problem, environment):
    env = {**PRODUCTION, "CHECKIE_ENV": environment, "ENCRYPTION_KEY": key}
    assert problem in refusal(env, tmp_path)


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("JWT_EXPIRATION", "fifteen minutes", "JWT_EXPIRATION: not a duration: 'fifteen minutes'"),
        ("REFRESH_TOKEN_EXPIRATION", "7w", "REFRESH_TOKEN_EXPIRATION: not a duration"),
        ("CHECKOUT_SESSION_TTL", "0m", "CHECKOUT_SESSION_TTL must be longer than zero"),
        ("WEBHOOK_RETRY_BASE_SECONDS", "sixty", "WEBHOOK_RETRY_BASE_SECONDS must be a number, not 'sixty'"),
        ("WEBHOOK_RETRY_BASE_SECONDS", "-1", "WEBHOOK_RETRY_BASE_SECONDS must be greater than zero"),
        ("WEBHOOK_RETRY_BASE_SECONDS", "nan", "WEBHOOK_RETRY_BASE_SECONDS must be greater than zero"),
        ("PLATFORM_FEE_PERCENT", "2.9%", "PLATFORM_FEE_PERCENT must be a fraction between 0 and 1"),
        ("PLATFORM_FEE_PERCENT", "1.5", "PLATFORM_FEE_PERCENT must be a fraction between 0 and 1"),
        ("WIDGET_RATE_LIMIT", "lots", "WIDGET_RATE_LIMIT must be a rate limit such as 30/minute"),
        ("MAX_CONTENT_LENGTH", "1MB", "MAX_CONTENT_LENGTH must be a whole number ≥ 0, not '1MB'"),
        ("MAX_CONTENT_LENGTH", "0", "MAX_CONTENT_LENGTH must be a number of bytes greater than zero"),
        ("PAYMENT_PROVIDER", "paypal", "PAYMENT_PROVIDER must be one of test, stripe, not 'paypal'"),
        ("CHECKIE_ENV", "staging", "CHECKIE_ENV must be one of development, test, production, not 'staging'"),
    ],
)
def test_bad_values_are_reported_by_name(tmp_path, name, value, problem):
    assert problem in refusal({name: value}, str(tmp_path))


@pytest.mark.parametrize(
    "text, expected",
    [("15m", timedelta(minutes=15)), ("7d", timedelta(days=7)), ("2h", timedelta(hours=2)),
     ("90", timedelta(seconds=90)), ("30s", timedelta(seconds=30)), (" 10 M ", timedelta(minutes=10))],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


def test_values_are_parsed(tmp_path):
    config = load_config(
        {"JWT_EXPIRATION": "30m", "PLATFORM_FEE_PERCENT": "0.05", "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
         "HUEY_IMMEDIATE": "yes", "APP_URL": "https://pay.example.com/", "REDIS_URL": "redis://r:6379/1"},
        str(tmp_path),
    )
    assert config["JWT_EXPIRATION"] == timedelta(minutes=30)
    assert config["PLATFORM_FEE_PERCENT"] == Decimal("0.05")
    assert config["WEBHOOK_RETRY_BASE_SECONDS"] == 0.2
    assert config["HUEY_IMMEDIATE"] is True
    assert config["APP_URL"] == "https://pay.example.com"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/1"


def test_rate_limit_keys_are_namespaced_per_deployment(tmp_path):
    """Two deployments (or test runs) on one Redis: resetting one's counters must not wipe the other's."""
    config = load_config({"REDIS_URL": "redis://r:6379/1", "RATELIMIT_KEY_PREFIX": "shop-a"}, str(tmp_path))
    assert config["RATELIMIT_KEY_PREFIX"] == "shop-a"
    assert config["RATELIMIT_STORAGE_OPTIONS"]["key_prefix"] == "limits:shop-a"
    assert load_config({}, str(tmp_path))["RATELIMIT_STORAGE_OPTIONS"] == {}


def test_a_slow_or_dead_redis_does_not_fail_rate_limited_requests(tmp_path):
    """Limits fall back to memory: a request waits at most a second for the rate-limit Redis."""
    config = load_config({"REDIS_URL": "redis://r:6379/1"}, str(tmp_path))
    assert config["RATELIMIT_STORAGE_OPTIONS"]["socket_connect_timeout"] == 1
    assert config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] == 1
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] and config["RATELIMIT_SWALLOW_ERRORS"]
