"""/api/users/me over HTTP: read, update, change password, delete."""
from __future__ import annotations

import pytest

from checkie.accounts.models import User
from tests.apps import app_db
from tests.emails import emails_to
from tests.factories import DEFAULT_PASSWORD, make_store, verified_user
from tests.http import access_token_for, bearer

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def ada(app) -> dict:
    """A verified user and an access token for her."""
    with app_db(app) as db:
        user = verified_user(db)
        return {"id": user.id, "token": access_token_for(app, user)}


def _auth(ada: dict) -> dict:
    return bearer(ada["token"])


def test_get_me_answers_with_the_user(client, ada):
    response = client.get("/api/users/me", headers=_auth(ada))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == ada["id"] and body["email"] == "ada@example.com" and body["name"] == "Ada Lovelace"
    assert body["emailVerified"] is True and body["createdAt"]


def test_every_users_endpoint_needs_a_token(client):
    assert client.get("/api/users/me").status_code == 401
    assert client.patch("/api/users/me", json={"name": "X"}).status_code == 401
    assert client.delete("/api/users/me", json={"password": DEFAULT_PASSWORD}).status_code == 401
    unauthorized = client.patch("/api/users/me/password", json={"currentPassword": "x", "newPassword": "y"})
    assert unauthorized.status_code == 401 and unauthorized.get_json()["error"]["code"] == "unauthorized"


def test_patch_me_renames(client, ada):
    response = client.patch("/api/users/me", json={"name": "  Ada   King "}, headers=_auth(ada))
    assert response.status_code == 200 and response.get_json()["name"] == "Ada King"
    assert client.patch("/api/users/me", json={}, headers=_auth(ada)).get_json()["name"] == "Ada King"


def test_patch_me_reports_broken_rules_under_the_json_names(client, ada):
    blank = client.patch("/api/users/me", json={"name": " "}, headers=_auth(ada))
    assert blank.status_code == 422 and set(blank.get_json()["error"]["fields"]) == {"name"}
    no_password = client.patch("/api/users/me", json={"email": "new@example.com"}, headers=_auth(ada))
    assert no_password.status_code == 422 and set(no_password.get_json()["error"]["fields"]) == {"currentPassword"}


def test_patch_me_changes_the_email_to_an_unconfirmed_one(app, client, ada):
    response = client.patch(
        "/api/users/me", json={"email": "New@Example.com", "currentPassword": DEFAULT_PASSWORD}, headers=_auth(ada)
    )
    assert response.status_code == 200
    assert response.get_json()["email"] == "new@example.com" and response.get_json()["emailVerified"] is False
    with app_db(app) as db:
        assert [m.kind for m in emails_to(db, "new@example.com")] == ["verify_email"]


def _change_password(client, ada: dict, current: str, new: str):
    return client.patch("/api/users/me/password", json={"currentPassword": current, "newPassword": new}, headers=_auth(ada))


def test_change_password_ends_every_token_including_the_callers(client, ada):
    wrong = _change_password(client, ada, "nope", NEW_PASSWORD)
    assert wrong.status_code == 422 and set(wrong.get_json()["error"]["fields"]) == {"currentPassword"}
    weak = _change_password(client, ada, DEFAULT_PASSWORD, "short")
    assert weak.status_code == 422 and set(weak.get_json()["error"]["fields"]) == {"newPassword"}
    response = _change_password(client, ada, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 204 and response.get_data() == b""
    assert client.get("/api/users/me", headers=_auth(ada)).status_code == 401
    assert client.post("/api/auth/login", json={"email": "ada@example.com", "password": NEW_PASSWORD}).status_code == 200


def test_delete_me_needs_the_password(app, client, ada):
    response = client.delete("/api/users/me", json={"password": "not it"}, headers=_auth(ada))
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"password"}
    assert client.delete("/api/users/me", headers=_auth(ada)).status_code == 422


def test_delete_me_is_refused_while_owning_a_store(app, client, ada):
    with app_db(app) as db:
        make_store(db, owner=db.get(User, ada["id"]), name="Acme Goods")
        db.commit()
    response = client.delete("/api/users/me", json={"password": DEFAULT_PASSWORD}, headers=_auth(ada))
    assert response.status_code == 409
    assert "Acme Goods" in response.get_json()["error"]["message"]


def test_delete_me_removes_the_account(app, client, ada):
    response = client.delete("/api/users/me", json={"password": DEFAULT_PASSWORD}, headers=_auth(ada))
    assert response.status_code == 204 and response.get_data() == b""
    assert client.get("/api/users/me", headers=_auth(ada)).status_code == 401
    with app_db(app) as db:
        assert db.get(User, ada["id"]) is None
