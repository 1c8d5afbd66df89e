"""JSON API: /api/stores/<id>/payment-settings — read (never a secret), change (owners and
admins with a user token), and the connection check."""
import socket

import pytest

from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_store, make_user
from tests.http import access_token_for, bearer
from tests.providers.localstripe import SECRET_KEY

PK_TEST, SK_TEST, WHSEC = "pk_test_abcdefgh1234", "sk_test_abcdefgh5678", "whsec_abcdefgh9012"
VIEW_KEYS = {"provider", "choice", "mode", "publishableKey", "secretKeyHint", "webhookSecretSet", "webhookUrl"}
TEST_KEYS = {"publishableKey": PK_TEST, "secretKey": SK_TEST, "webhookSecret": WHSEC}


def url(store, tail: str = "") -> str:
    return f"/api/stores/{store.id}/payment-settings{tail}"


def test_a_new_store_reads_the_platform_default(app, client, store, auth):
    response = client.get(url(store), headers=auth)
    assert response.status_code == 200 and set(response.json) == VIEW_KEYS
    assert response.json == {
        "provider": app.config["PAYMENT_PROVIDER"], "choice": "default", "mode": "test", "publishableKey": None,
        "secretKeyHint": None, "webhookSecretSet": False, "webhookUrl": f"{app.config['APP_URL']}/api/webhooks/stripe",
    }


def test_saving_keys_answers_the_view_without_secrets(client, db, store, auth):
    response = client.put(url(store), json={"provider": "stripe", **TEST_KEYS}, headers=auth)
    body = response.json
    assert response.status_code == 200 and set(body) == VIEW_KEYS
    assert (body["provider"], body["choice"], body["mode"]) == ("stripe", "stripe", "test")
    assert (body["publishableKey"], body["secretKeyHint"], body["webhookSecretSet"]) == (PK_TEST, "sk_test_…5678", True)
    assert SK_TEST not in response.get_data(as_text=True) and WHSEC not in response.get_data(as_text=True)
    assert SK_TEST not in client.get(url(store), headers=auth).get_data(as_text=True)


def test_absent_and_empty_keys_keep_the_saved_ones_and_removal_forgets_them(client, db, store, auth):
    client.put(url(store), json={"provider": "test", **TEST_KEYS}, headers=auth)
    body = client.put(url(store), json={"secretKey": "", "webhookSecret": None}, headers=auth).json
    assert body["secretKeyHint"] == "sk_test_…5678" and body["webhookSecretSet"] and body["choice"] == "test"
    body = client.put(url(store), json={"removeStripeKeys": True}, headers=auth).json
    assert (body["publishableKey"], body["secretKeyHint"], body["webhookSecretSet"]) == (None, None, False)


def test_live_keys_read_as_live(client, store, auth):
    keys = {"publishableKey": "pk_live_abcdefgh1234", "secretKey": "sk_live_abcdefgh5678", "webhookSecret": WHSEC}
    assert client.put(url(store), json={"provider": "stripe", **keys}, headers=auth).json["mode"] == "live"


@pytest.mark.parametrize("payload, fields", [
    ({"provider": "paypal"}, {"provider"}),
    ({"publishableKey": "nope_abcdefgh", "secretKey": SK_TEST, "webhookSecret": WHSEC}, {"publishableKey"}),
    ({"publishableKey": "pk_live_abcdefgh1234", "secretKey": SK_TEST, "webhookSecret": WHSEC}, {"publishableKey"}),
    ({"publishableKey": PK_TEST, "secretKey": SK_TEST}, {"webhookSecret"}),
    ({"secretKey": "x" * 301}, {"secretKey"}),
    ({"removeStripeKeys": "yes"}, {"removeStripeKeys"}),
    ({"provider": 5}, {"provider"}),
])
def test_bad_input_is_a_422_with_camelcase_fields_and_changes_nothing(client, store, auth, payload, fields):
    response = client.put(url(store), json=payload, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == fields
    assert SK_TEST not in response.get_data(as_text=True)
    assert client.get(url(store), headers=auth).json["choice"] == "default"


def test_stripe_without_any_keys_is_refused(app, client, store, auth, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    response = client.put(url(store), json={"provider": "stripe"}, headers=auth)
    assert response.status_code == 422 and response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == ["secretKey"]


def test_the_test_provider_is_refused_where_it_is_disabled(app, client, store, auth, monkeypatch):
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    response = client.put(url(store), json={"provider": "test"}, headers=auth)
    assert response.status_code == 422 and list(response.json["error"]["fields"]) == ["provider"]


def test_viewers_read_admins_change_api_keys_only_read(app, client, db, user, store):
    admin, viewer = make_user(db), make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    add_member(db, store, viewer, role=Role.VIEWER)
    _, raw_key = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    viewer_auth, admin_auth = bearer(access_token_for(app, viewer)), bearer(access_token_for(app, admin))
    assert client.get(url(store), headers=viewer_auth).status_code == 200
    assert client.put(url(store), json={"provider": "test"}, headers=viewer_auth).status_code == 403
    assert client.post(url(store, "/test"), headers=viewer_auth).status_code == 403
    assert client.get(url(store), headers=bearer(raw_key)).status_code == 200
    refused = client.put(url(store), json={"provider": "test"}, headers=bearer(raw_key))
    assert refused.status_code == 403 and "API key" in refused.json["error"]["message"]
    assert client.get(url(store), headers=admin_auth).json["choice"] == "default"
    assert client.put(url(store), json={"provider": "test"}, headers=admin_auth).json["choice"] == "test"


def test_another_store_is_a_404_and_no_token_a_401(client, db, store, auth):
    other = make_store(db, owner=make_user(db), name="Other", slug="other")
    db.commit()
    assert client.get(url(other), headers=auth).status_code == 404
    assert client.put(url(other), json={"provider": "test"}, headers=auth).status_code == 404
    assert client.post(url(other, "/test"), headers=auth).status_code == 404
    assert client.get(url(store)).status_code == 401


def test_the_connection_check_against_localstripe(client, user, stripe_store, app):
    response = client.post(url(stripe_store, "/test"), headers=bearer(access_token_for(app, user)))
    assert response.status_code == 200 and response.json == {"connected": True, "mode": "test"}
    assert SECRET_KEY not in response.get_data(as_text=True)


def test_a_failed_connection_is_a_422_connection_failed(app, client, store, auth, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{closed_port}")
    client.put(url(store), json={"provider": "stripe", **TEST_KEYS}, headers=auth)
    response = client.post(url(store, "/test"), headers=auth)
    assert response.status_code == 422 and response.json["error"]["code"] == "connection_failed"
    assert SK_TEST not in response.get_data(as_text=True)


def test_the_openapi_document_describes_the_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get", "put"} <= set(paths["/api/stores/{store_id}/payment-settings"])
    assert "post" in paths["/api/stores/{store_id}/payment-settings/test"]
