"""/api/auth over HTTP: sign-up, sign-in, token refresh and revocation, password reset."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checkie.accounts.tokens import create_access_token
from tests.apps import app_db
from tests.emails import emails_to, latest_token
from tests.factories import DEFAULT_PASSWORD, verified_user
from tests.http import bearer

NEW_PASSWORD = "a brand new passphrase"
USER_KEYS = {"id", "email", "name", "emailVerified", "createdAt"}


@pytest.fixture
def ada(app) -> str:
    with app_db(app) as db:
        return verified_user(db).email


def _login(client, email="ada@example.com", password=DEFAULT_PASSWORD, **kwargs):
    return client.post("/api/auth/login", json={"email": email, "password": password}, **kwargs)


def _tokens(client, **kwargs) -> dict:
    response = _login(client, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _me(client, access_token: str):
    return client.get("/api/auth/me", headers=bearer(access_token))


# --- register ------------------------------------------------------------------------------------

def test_register_creates_an_unverified_account_that_can_use_the_api(app, client):
    response = client.post("/api/auth/register", json={"email": "Nina@Example.com", "password": DEFAULT_PASSWORD, "name": "Nina"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user", "accessToken", "refreshToken"}
    assert set(body["user"]) == USER_KEYS
    assert body["user"]["email"] == "nina@example.com" and body["user"]["emailVerified"] is False
    assert _me(client, body["accessToken"]).get_json()["id"] == body["user"]["id"]
    with app_db(app) as db:
        assert [m.kind for m in emails_to(db, "nina@example.com")] == ["verify_email"]


def test_register_refuses_a_taken_address_and_broken_rules_per_field(client, ada):
    taken = client.post("/api/auth/register", json={"email": "ADA@example.com", "password": DEFAULT_PASSWORD, "name": "Ada"})
    assert taken.status_code == 422
    assert taken.get_json()["error"]["code"] == "validation_error"
    assert set(taken.get_json()["error"]["fields"]) == {"email"}
    broken = client.post("/api/auth/register", json={"email": "nope", "password": "short", "name": " "})
    assert broken.status_code == 422 and set(broken.get_json()["error"]["fields"]) == {"email", "password", "name"}


def test_register_validates_the_body_shape(client):
    response = client.post("/api/auth/register", json={"email": "a@example.com", "password": 12, "extra": True})
    assert response.status_code == 422
    assert {"password", "name", "extra"} <= set(response.get_json()["error"]["fields"])
    nul = client.post("/api/auth/register", json={"email": "a@example.com", "password": DEFAULT_PASSWORD, "name": "A\x00"})
    assert nul.status_code == 422 and set(nul.get_json()["error"]["fields"]) == {"name"}


# --- login ---------------------------------------------------------------------------------------

def test_login_answers_with_the_user_and_a_token_pair(client, ada):
    body = _tokens(client, email=" Ada@Example.com")
    assert set(body) == {"user", "accessToken", "refreshToken"} and body["user"]["email"] == ada
    assert body["user"]["emailVerified"] is True
    me = _me(client, body["accessToken"])
    assert me.status_code == 200 and set(me.get_json()) == USER_KEYS


def test_login_works_for_an_unverified_account(client):
    client.post("/api/auth/register", json={"email": "nina@example.com", "password": DEFAULT_PASSWORD, "name": "Nina"})
    assert _tokens(client, email="nina@example.com")["user"]["emailVerified"] is False


def test_login_fails_identically_for_a_wrong_password_and_an_unknown_address(client, ada):
    wrong = _login(client, password="not the password")
    unknown = _login(client, email="stranger@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data() == unknown.get_data()
    assert wrong.get_json() == {"error": {"code": "unauthorized", "message": "Invalid email or password."}}


def test_me_needs_a_valid_token(app, client, ada):
    assert client.get("/api/auth/me").status_code == 401
    assert _me(client, "not-a-jwt").status_code == 401
    forged = create_access_token(1, "epoch", secret="another secret that is long enough", ttl=timedelta(minutes=5))
    assert _me(client, forged).status_code == 401


def test_an_access_token_stops_working_when_it_expires(app, client, ada, monkeypatch):
    monkeypatch.setitem(app.config, "JWT_EXPIRATION", timedelta(seconds=-1))
    expired = _tokens(client)["accessToken"]
    monkeypatch.undo()
    response = _me(client, expired)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert _me(client, _tokens(client)["accessToken"]).status_code == 200


# --- refresh and logout --------------------------------------------------------------------------

def _refresh(client, refresh_token: str):
    return client.post("/api/auth/refresh", json={"refreshToken": refresh_token})


def test_refresh_rotates_the_pair(client, ada):
    first = _tokens(client)
    response = _refresh(client, first["refreshToken"])
    assert response.status_code == 200
    second = response.get_json()
    assert set(second) == {"accessToken", "refreshToken"} and second["refreshToken"] != first["refreshToken"]
    assert _me(client, second["accessToken"]).status_code == 200
    assert _refresh(client, second["refreshToken"]).status_code == 200


def test_reusing_a_refresh_token_revokes_its_whole_family(client, ada):
    first = _tokens(client)
    other_device = _tokens(client)
    second = _refresh(client, first["refreshToken"]).get_json()
    replay = _refresh(client, first["refreshToken"])
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "unauthorized"
    assert _refresh(client, second["refreshToken"]).status_code == 401  # the family is gone
    assert _refresh(client, other_device["refreshToken"]).status_code == 200  # another sign-in is not


def test_an_unknown_refresh_token_is_refused(client):
    assert _refresh(client, "made-up").status_code == 401
    assert _refresh(client, "").status_code == 401
    assert client.post("/api/auth/refresh", json={}).status_code == 422


def test_logout_revokes_the_refresh_token(client, ada):
    pair = _tokens(client)
    response = client.post("/api/auth/logout", json={"refreshToken": pair["refreshToken"]})
    assert response.status_code == 204 and response.get_data() == b""
    assert _refresh(client, pair["refreshToken"]).status_code == 401
    assert client.post("/api/auth/logout", json={"refreshToken": pair["refreshToken"]}).status_code == 204


# --- forgot and reset password -------------------------------------------------------------------

def _forgot(client, email: str):
    return client.post("/api/auth/forgot-password", json={"email": email})


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, client, ada):
    known, unknown = _forgot(client, ada), _forgot(client, "stranger@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data() and "message" in known.get_json()
    with app_db(app) as db:
        assert [m.kind for m in emails_to(db, ada)] == ["password_reset"]
        assert emails_to(db, "stranger@example.com") == []


def test_reset_password_sets_it_once_and_ends_every_session(app, client, ada):
    old = _tokens(client)
    _forgot(client, ada)
    with app_db(app) as db:
        token = latest_token(db, ada, "password_reset", "reset-password")
    weak = client.post("/api/auth/reset-password", json={"token": token, "password": "short"})
    assert weak.status_code == 422 and set(weak.get_json()["error"]["fields"]) == {"password"}
    response = client.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 204 and response.get_data() == b""
    assert _me(client, old["accessToken"]).status_code == 401
    assert _refresh(client, old["refreshToken"]).status_code == 401
    assert _login(client, password=NEW_PASSWORD).status_code == 200
    again = client.post("/api/auth/reset-password", json={"token": token, "password": "yet another password"})
    assert again.status_code == 422 and set(again.get_json()["error"]["fields"]) == {"token"}


# --- rate limits and documentation ---------------------------------------------------------------

def test_login_attempts_on_one_address_are_limited_across_ips(client, ada):
    answers = [_login(client, password="a guess", environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code for n in range(6)]
    assert answers == [401] * 5 + [429]
    limited = _login(client, environ_base={"REMOTE_ADDR": "192.0.2.200"})
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"


def test_full_width_spellings_share_the_address_limits(client, ada):
    spellings = ["ada@ｅxample.com", "Ada@Example.com"]
    assert _login(client, "ada@ｅxample.com").status_code == 200  # the same account
    guesses = [_login(client, spellings[n % 2], "a guess", environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}) for n in range(5)]
    assert [r.status_code for r in guesses] == [401] * 4 + [429]
    resets = [_forgot(client, spellings[n % 2]).status_code for n in range(6)]
    assert resets == [202] * 5 + [429]


def test_forgot_password_requests_are_limited_per_address(client):
    answers = [_forgot(client, "ada@example.com").status_code for _ in range(6)]
    assert answers == [202] * 5 + [429]


def test_the_openapi_document_describes_every_answer(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    expected = {
        ("/api/auth/register", "post"): {"201", "422", "429"},
        ("/api/auth/login", "post"): {"200", "401", "422", "429"},
        ("/api/auth/refresh", "post"): {"200", "401", "422"},
        ("/api/auth/logout", "post"): {"204", "422"},
        ("/api/auth/forgot-password", "post"): {"202", "422", "429"},
        ("/api/auth/reset-password", "post"): {"204", "422", "429"},
        ("/api/auth/me", "get"): {"200", "401"},
        ("/api/users/me", "get"): {"200", "401"},
        ("/api/users/me", "patch"): {"200", "401", "422"},
        ("/api/users/me", "delete"): {"204", "401", "409", "422"},
        ("/api/users/me/password", "patch"): {"204", "401", "422"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
