"""Dashboard: the store's payment settings — masked keys, saving, errors beside their fields,
viewers read-only, the test-connection button, and the mode shown in the dashboard's chrome."""
import re
import socket

import pytest

from checkie.stores.models import Role
from checkie.stores.payment_settings import update_payment_settings
from checkie.web import EXPIRED_FORM
from tests.factories import add_member, make_user
from tests.http import HX, login_as, post_form
from tests.providers.localstripe import PUBLISHABLE_KEY, SECRET_KEY

PK_TEST, SK_TEST, WHSEC = "pk_test_abcdefgh1234", "sk_test_abcdefgh5678", "whsec_abcdefgh9012"
PK_LIVE, SK_LIVE = "pk_live_abcdefgh1234", "sk_live_abcdefgh5678"


def settings_url(store, tail: str = "") -> str:
    return f"/dashboard/stores/{store.id}/payment-settings{tail}"


def page_of(client, store) -> str:
    return client.get(settings_url(store)).get_data(as_text=True)


def save(client, store, **data):
    form = {"provider": "stripe", "publishable_key": "", "secret_key": "", "webhook_secret": "", **data}
    return post_form(client, settings_url(store), form, headers=HX)


@pytest.fixture
def viewer(db, store):
    person = make_user(db, email="viewer@example.com")
    add_member(db, store, person, role=Role.VIEWER)
    db.commit()
    return person


def test_the_page_shows_the_default_provider_test_mode_and_the_webhook(client, user, store):
    login_as(client, user)
    page = page_of(client, store)
    assert "Payment settings" in page and "(the platform default)" in page and "TEST MODE" in page
    assert "http://" in page and "/api/webhooks/stripe</code>" in page
    for event in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
                  "setup_intent.succeeded", "setup_intent.setup_failed"):
        assert f"<code>{event}</code>" in page
    assert 'type="password"' in page and 'autocomplete="off"' in page and "blank keeps the saved one" in page.lower()


def test_saved_keys_show_as_a_hint_never_as_the_secret(client, db, user, store):
    update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    db.commit()
    login_as(client, user)
    page = page_of(client, store)
    assert SK_TEST not in page and WHSEC not in page
    assert "sk_test_…5678" in page and PK_TEST in page and "(chosen for this store)" in page
    assert re.search(r"Webhook secret set</dt>\s*<dd>Yes", page)
    inputs = re.findall(r'<input[^>]*name="(publishable_key|secret_key|webhook_secret)"[^>]*>', page)
    assert len(inputs) == 3
    for tag in re.findall(r'<input[^>]*name="(?:publishable_key|secret_key|webhook_secret)"[^>]*>', page):
        assert 'value=""' in tag or "value=" not in tag


def test_saving_keys_switches_to_stripe_and_redirects(client, db, user, store):
    login_as(client, user)
    response = save(client, store, publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == settings_url(store)
    db.refresh(store)
    assert store.payment_provider == "stripe" and store.stripe_secret_key_hint == "sk_test_…5678"
    page = page_of(client, store)
    assert "Payment settings saved." in page and SK_TEST not in page


def test_a_plain_post_is_post_redirect_get(client, db, user, store):
    login_as(client, user)
    response = post_form(client, settings_url(store), {"provider": "test"})
    assert response.status_code == 303 and response.headers["Location"].endswith(settings_url(store))
    db.refresh(store)
    assert store.payment_provider == "test"


def test_blank_keys_keep_the_saved_ones(client, db, user, store):
    update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    db.commit()
    saved = store.stripe_secret_key_encrypted
    login_as(client, user)
    assert save(client, store).status_code == 200
    db.refresh(store)
    assert store.stripe_secret_key_encrypted == saved and store.stripe_publishable_key == PK_TEST


def test_removing_the_keys(client, db, user, store):
    update_payment_settings(db, store, provider="test", publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    db.commit()
    login_as(client, user)
    assert save(client, store, provider="test", remove_stripe_keys="y").status_code == 200
    db.refresh(store)
    assert store.stripe_secret_key_encrypted is None and store.stripe_publishable_key is None


def test_errors_sit_beside_their_fields_and_nothing_is_saved(client, db, user, store):
    login_as(client, user)
    response = save(client, store, publishable_key=PK_LIVE, secret_key=SK_TEST, webhook_secret="whsec_bad")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and body.lstrip().startswith('<form id="payment-settings-form"')
    # A key of the wrong shape is reported first, alone: the others are judged once every key reads as one.
    assert 'id="webhook_secret-error"' in body and "signing secret" in body and 'id="publishable_key-error"' not in body
    assert SK_TEST not in body and "whsec_bad" not in body and PK_LIVE not in body
    db.refresh(store)
    assert store.payment_provider is None and store.stripe_secret_key_encrypted is None


def test_mixed_modes_are_refused_beside_the_publishable_key(client, db, user, store):
    login_as(client, user)
    body = save(client, store, publishable_key=PK_LIVE, secret_key=SK_TEST, webhook_secret=WHSEC).get_data(as_text=True)
    assert re.search(r'id="publishable_key-error" class="field-error">The publishable key and the secret key must both', body)


def test_stripe_without_keys_is_refused_beside_the_secret_key(app, client, db, user, store, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    login_as(client, user)
    response = save(client, store)
    assert response.status_code == 422 and 'id="secret_key-error"' in response.get_data(as_text=True)


def test_the_test_provider_is_hidden_where_it_is_disabled(app, client, user, store, monkeypatch):
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    login_as(client, user)
    page = page_of(client, store)
    assert 'value="stripe"' in page and 'value="test"' not in page


def test_viewers_read_without_forms_or_secrets(client, db, store, viewer):
    update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    db.commit()
    login_as(client, viewer)
    page = page_of(client, store)
    assert "sk_test_…5678" in page and SK_TEST not in page and WHSEC not in page
    assert 'id="payment-settings-form"' not in page and "Test connection</button>" not in page
    assert "you can see its payment settings but not change them" in page


def test_viewers_get_403_on_every_post_and_nothing_changes(client, db, store, viewer):
    login_as(client, viewer)
    for tail, data in (("", {"provider": "test"}), ("/test", {})):
        for headers in ({}, HX):
            response = post_form(client, settings_url(store, tail), data, page=settings_url(store), headers=headers)
            assert response.status_code == 403
    db.refresh(store)
    assert store.payment_provider is None


def test_a_post_without_a_csrf_token_is_refused(app, client, db, user, store, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", True)
    login_as(client, user)
    for tail in ("", "/test"):
        response = client.post(settings_url(store, tail), data={"provider": "test"},
                               headers={"Referer": f"http://localhost{settings_url(store)}"})
        assert response.status_code == 303
        assert EXPIRED_FORM in client.get(response.headers["Location"]).get_data(as_text=True)
    db.refresh(store)
    assert store.payment_provider is None


def test_test_connection_against_localstripe(app, client, db, user, stripe_store):
    login_as(client, user)
    response = post_form(client, settings_url(stripe_store, "/test"), page=settings_url(stripe_store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="connection-result"')
    assert "Connected to Stripe (test mode)." in body and SECRET_KEY not in body


def test_test_connection_as_a_plain_post_shows_the_page_with_the_answer(client, user, stripe_store):
    login_as(client, user)
    response = post_form(client, settings_url(stripe_store, "/test"), page=settings_url(stripe_store))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page and "Connected to Stripe (test mode)." in page
    assert PUBLISHABLE_KEY in page and SECRET_KEY not in page


def test_test_connection_shows_the_error(app, client, db, user, store, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{closed_port}")
    update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    db.commit()
    login_as(client, user)
    response = post_form(client, settings_url(store, "/test"), page=settings_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Stripe refused these keys, or could not be reached" in body and SK_TEST not in body


def test_the_settings_navigation_links_the_page(client, user, store):
    login_as(client, user)
    page = client.get(f"/dashboard/stores/{store.id}/settings").get_data(as_text=True)
    assert f'href="{settings_url(store)}"' in page


def test_test_keys_show_the_test_bar_and_live_keys_a_live_badge(client, db, user, store):
    update_payment_settings(db, store, provider="stripe", publishable_key=PK_TEST, secret_key=SK_TEST, webhook_secret=WHSEC)
    db.commit()
    login_as(client, user)
    overview = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)
    assert 'id="test-mode-bar"' in overview and 'id="live-mode-badge"' not in overview
    update_payment_settings(db, store, publishable_key=PK_LIVE, secret_key=SK_LIVE)
    db.commit()
    overview = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)
    assert 'id="test-mode-bar"' not in overview and 'id="live-mode-badge"' in overview
    assert "LIVE" in page_of(client, store)
