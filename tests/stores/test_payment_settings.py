"""The store's payment settings service: the provider it chooses, its own Stripe keys (encrypted
at rest, shown as a hint), which mode they put the store in, and a check of them against Stripe."""
import socket

import pytest
import sqlalchemy as sa

from checkie import providers
from checkie.errors import ValidationFailed
from checkie.security import decrypt_secret
from checkie.stores.models import Store
from checkie.stores.payment_settings import (
    STRIPE_WEBHOOK_EVENTS,
    ConnectionFailed,
    check_connection,
    settings_of,
    stripe_webhook_url,
    update_payment_settings,
)
from tests.providers.localstripe import SECRET_KEY

PK_TEST, SK_TEST, WHSEC = "pk_test_abcdefgh1234", "sk_test_abcdefgh5678", "whsec_abcdefgh9012"
PK_LIVE, SK_LIVE = "pk_live_abcdefgh1234", "sk_live_abcdefgh5678"
TEST_KEYS = {"publishable_key": PK_TEST, "secret_key": SK_TEST, "webhook_secret": WHSEC}


def refused(db, store, **changes) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        update_payment_settings(db, store, **changes)
    return caught.value.fields


def raw_row(db, store) -> dict:
    db.flush()
    row = db.execute(sa.select(Store.__table__).where(Store.id == store.id)).mappings().one()
    return dict(row)


def test_a_new_store_follows_the_platform_default_in_test_mode(app, db, store):
    settings = settings_of(store)
    assert (settings.choice, settings.provider, settings.mode) == ("default", app.config["PAYMENT_PROVIDER"], "test")
    assert (settings.publishable_key, settings.secret_key_hint, settings.webhook_secret_set) == (None, None, False)


def test_own_test_keys_are_encrypted_at_rest_and_shown_as_a_hint(app, db, store):
    settings = update_payment_settings(db, store, provider="stripe", **TEST_KEYS)
    assert (settings.choice, settings.provider, settings.mode) == ("stripe", "stripe", "test")
    assert (settings.publishable_key, settings.secret_key_hint, settings.webhook_secret_set) == (PK_TEST, "sk_test_…5678", True)
    row = raw_row(db, store)
    assert SK_TEST not in str(row) and WHSEC not in str(row)
    key = app.config["ENCRYPTION_KEY"]
    assert decrypt_secret(row["stripe_secret_key_encrypted"], key) == SK_TEST
    assert decrypt_secret(row["stripe_webhook_secret_encrypted"], key) == WHSEC
    assert SK_TEST not in repr(settings) and WHSEC not in repr(settings)


def test_live_keys_put_the_store_in_live_mode(db, store):
    settings = update_payment_settings(db, store, provider="stripe", publishable_key=PK_LIVE, secret_key=SK_LIVE,
                                       webhook_secret=WHSEC)
    assert settings.mode == "live" and settings.secret_key_hint == "sk_live_…5678"
    assert not providers.in_test_mode(store)


def test_a_restricted_key_is_accepted_and_hinted(db, store):
    settings = update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST,
                                       secret_key="rk_test_abcdefgh4321", webhook_secret=WHSEC)
    assert settings.secret_key_hint == "rk_test_…4321" and settings.mode == "test"


def test_blank_keys_keep_the_saved_ones(app, db, store):
    update_payment_settings(db, store, provider="stripe", **TEST_KEYS)
    before = raw_row(db, store)
    settings = update_payment_settings(db, store, provider="stripe", publishable_key="", secret_key="  ", webhook_secret=None)
    after = raw_row(db, store)
    assert settings.secret_key_hint == "sk_test_…5678" and settings.webhook_secret_set
    for column in ("stripe_publishable_key", "stripe_secret_key_encrypted", "stripe_webhook_secret_encrypted"):
        assert after[column] == before[column]


def test_a_new_secret_replaces_the_old_one_alone(app, db, store):
    update_payment_settings(db, store, provider="stripe", **TEST_KEYS)
    settings = update_payment_settings(db, store, secret_key="sk_test_zyxwvuts0000")
    assert settings.secret_key_hint == "sk_test_…0000" and settings.publishable_key == PK_TEST and settings.choice == "stripe"
    assert decrypt_secret(store.stripe_secret_key_encrypted, app.config["ENCRYPTION_KEY"]) == "sk_test_zyxwvuts0000"


def test_removing_the_keys_forgets_all_three(db, store):
    update_payment_settings(db, store, provider="test", **TEST_KEYS)
    settings = update_payment_settings(db, store, remove_stripe_keys=True)
    assert (settings.publishable_key, settings.secret_key_hint, settings.webhook_secret_set) == (None, None, False)
    row = raw_row(db, store)
    assert row["stripe_secret_key_encrypted"] is None and row["stripe_webhook_secret_encrypted"] is None


def test_removing_the_keys_of_a_stripe_store_without_platform_keys_is_refused(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    update_payment_settings(db, store, provider="stripe", **TEST_KEYS)
    assert "secret_key" in refused(db, store, remove_stripe_keys=True)
    assert settings_of(store).secret_key_hint == "sk_test_…5678"


def test_choosing_stripe_without_any_keys_is_refused(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    assert refused(db, store, provider="stripe") == {"secret_key": ["Stripe needs your keys: enter them to take payments with Stripe."]}
    assert store.payment_provider is None


def test_choosing_stripe_with_the_platforms_keys_needs_none_of_the_stores(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_platform_key")
    settings = update_payment_settings(db, store, provider="stripe")
    assert settings.provider == "stripe" and settings.platform_stripe_keys and settings.secret_key_hint is None


def test_the_test_provider_is_refused_where_it_is_disabled(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    assert refused(db, store, provider="test") == {"provider": ["The test provider is not available on this platform."]}
    assert not settings_of(store).test_provider_available


@pytest.mark.parametrize("provider", ["paypal", "STRIPE", "default "])
def test_an_unknown_provider_is_refused(db, store, provider):
    assert list(refused(db, store, provider=provider)) == ["provider"]


@pytest.mark.parametrize("changes, field", [
    ({"publishable_key": "sk_test_abcdefgh1234"}, "publishable_key"),
    ({"publishable_key": "pk_test_short"}, "publishable_key"),
    ({"secret_key": "pk_test_abcdefgh1234"}, "secret_key"),
    ({"secret_key": "sk_demo_abcdefgh1234"}, "secret_key"),
    ({"secret_key": "sk_test_abc def gh1234"}, "secret_key"),
    ({"webhook_secret": "sk_test_abcdefgh1234"}, "webhook_secret"),
    ({"webhook_secret": "whsec_short"}, "webhook_secret"),
])
def test_a_key_of_the_wrong_shape_is_refused_without_echoing_it(db, store, changes, field):
    fields = refused(db, store, **{**TEST_KEYS, **changes})
    assert list(fields) == [field]
    assert all(value not in str(fields) for value in changes.values())
    assert store.stripe_secret_key_encrypted is None


def test_every_shape_problem_is_reported_at_once(db, store):
    fields = refused(db, store, provider="paypal", publishable_key="x" * 9, secret_key="y" * 9, webhook_secret="z" * 9)
    assert set(fields) == {"provider", "publishable_key", "secret_key", "webhook_secret"}


def test_test_and_live_keys_cannot_be_mixed(db, store):
    fields = refused(db, store, provider="stripe", publishable_key=PK_LIVE, secret_key=SK_TEST, webhook_secret=WHSEC)
    assert fields == {"publishable_key": ["The publishable key and the secret key must both be test keys or both live keys."]}
    update_payment_settings(db, store, provider="stripe", **TEST_KEYS)
    assert list(refused(db, store, publishable_key=PK_LIVE)) == ["publishable_key"]  # against the saved secret's mode


@pytest.mark.parametrize("missing", ["publishable_key", "secret_key", "webhook_secret"])
def test_own_keys_come_as_a_complete_set(db, store, missing):
    keys = {name: value for name, value in TEST_KEYS.items() if name != missing}
    assert missing in refused(db, store, provider="stripe", **keys)
    assert store.stripe_publishable_key is None and store.stripe_secret_key_encrypted is None


def test_the_webhook_url_and_the_events_checkie_reads():
    assert stripe_webhook_url("https://pay.example.com/") == "https://pay.example.com/api/webhooks/stripe"
    assert "payment_intent.succeeded" in STRIPE_WEBHOOK_EVENTS and "setup_intent.succeeded" in STRIPE_WEBHOOK_EVENTS


def test_check_connection_against_localstripe_answers_the_mode(app, db, store, localstripe, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe.api_base)
    update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST, secret_key=SECRET_KEY, webhook_secret=WHSEC)
    assert check_connection(store) == "test"


def test_check_connection_fails_clearly_when_stripe_cannot_be_reached(app, db, store, monkeypatch):
    with socket.socket() as probe:  # a loopback port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{closed_port}")
    update_payment_settings(db, store, provider="stripe", **TEST_KEYS)
    with pytest.raises(ConnectionFailed) as caught:
        check_connection(store)
    assert caught.value.status == 422 and SK_TEST not in caught.value.message


def test_check_connection_without_any_keys_says_where_to_add_them(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    with pytest.raises(ConnectionFailed, match="payment settings"):
        check_connection(store)
