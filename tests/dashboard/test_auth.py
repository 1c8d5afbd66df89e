"""Signed-out pages over HTTP: register, confirm, log in and out, forgot and reset password.

Requests run outside any app context of the test (see `app_db`), as they would on a server."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.accounts.models import TokenPurpose, User, UserSession
from checkie.accounts.tasks import purge_user_sessions
from checkie.database import utcnow
from tests.apps import app_db
from tests.emails import emails_to, latest_token
from tests.factories import DEFAULT_PASSWORD, expire_tokens, make_store, verified_user
from tests.http import csrf_token, login, post_form

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "a brand new passphrase"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _log_in(client, email="ada@example.com", password=DEFAULT_PASSWORD, **kwargs):
    return post_form(client, "/login", {"email": email, "password": password}, **kwargs)


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


@pytest.fixture
def ada(app) -> str:
    """A verified user (the dashboard's log-in requires it); her email."""
    with app_db(app) as db:
        return verified_user(db).email


def _register(client, *, email="nina@example.com", name="Nina New", password=DEFAULT_PASSWORD, **kwargs):
    return post_form(client, "/register", {"name": name, "email": email, "password": password}, **kwargs)


def _user(app, email: str) -> dict | None:
    with app_db(app) as db:
        user = db.scalar(sa.select(User).where(User.email == email))
        return None if user is None else {"verified": user.email_verified_at is not None, "epoch": user.session_epoch}


def _kinds(app, email: str) -> list[str]:
    with app_db(app) as db:
        return [m.kind for m in emails_to(db, email)]


def _token(app, email: str, kind: str, path: str) -> str:
    with app_db(app) as db:
        return latest_token(db, email, kind, path)


# --- pages render --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/login", ['name="email"', 'name="password"', 'href="/forgot-password"', 'href="/register"']),
        ("/register", ['name="name"', 'name="email"', 'name="password"', 'minlength="10"', 'href="/login"']),
        ("/forgot-password", ['name="email"', "Email me a reset link", 'href="/login"']),
    ],
)
def test_signed_out_pages_render_their_form(client, url, expected):
    response = client.get(url)
    assert response.status_code == 200
    body = _text(response)
    assert all(snippet in body for snippet in expected)
    assert 'name="csrf_token"' in body


def test_posting_without_a_csrf_token_is_refused(client, ada):
    """Sent back to the form with the expired-session flash (tests/test_csrf.py), not signed in."""
    response = client.post("/login", data={"email": "ada@example.com", "password": DEFAULT_PASSWORD},
                           headers={"Referer": "http://localhost/login"})
    assert response.status_code == 303 and response.headers["Location"] == "http://localhost/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert "Your session expired; please try again." in _text(client.get("/login"))


# --- register ------------------------------------------------------------------------------------

def test_register_creates_an_unverified_user_and_redirects_to_check_your_inbox(app, client):
    response = _register(client, email="Nina@Example.com")
    assert response.status_code == 303 and response.headers["Location"] == "/register/check-inbox"
    assert _user(app, "nina@example.com")["verified"] is False
    assert _kinds(app, "nina@example.com") == ["verify_email"]
    page = client.get("/register/check-inbox")
    assert page.status_code == 200 and "Check your inbox" in _text(page) and "Nina@Example.com" in _text(page)
    assert not _signed_in(client)


def test_register_with_a_missing_field_shows_the_error_beside_it(app, client):
    response = _register(client, name="")
    assert response.status_code == 422
    assert '<small id="name-error" class="field-error">Tell us your name.</small>' in _text(response)
    assert _user(app, "nina@example.com") is None


def test_register_shows_every_broken_account_rule_beside_its_field(app, client):
    response = _register(client, email="not-an-email", password="short")
    assert response.status_code == 422
    body = _text(response)
    assert '<small id="email-error" class="field-error">' in body and 'aria-invalid="true"' in body
    assert '<small id="password-error" class="field-error">Use at least 10 characters.</small>' in body
    assert _kinds(app, "not-an-email") == []


def test_register_over_htmx_answers_with_the_form_fragment_or_a_redirect_header(client):
    invalid = _register(client, password="short", headers=HTMX)
    assert invalid.status_code == 422 and "<html" not in _text(invalid)
    assert _text(invalid).lstrip().startswith("<form") and "Use at least 10 characters." in _text(invalid)
    valid = _register(client, headers=HTMX)
    assert valid.status_code == 200 and valid.headers["HX-Redirect"] == "/register/check-inbox"


# --- email confirmation --------------------------------------------------------------------------

def _registered_token(app, client) -> str:
    _register(client)
    return _token(app, "nina@example.com", "verify_email", "verify-email")


def test_opening_a_confirmation_link_only_shows_a_button(app, client):
    token = _registered_token(app, client)
    for _ in range(2):  # a mail scanner's prefetch must not use the link up
        page = client.get(f"/verify-email/{token}")
        assert page.status_code == 200 and "Confirm my email" in _text(page) and "nina@example.com" in _text(page)
    assert _user(app, "nina@example.com")["verified"] is False


def test_confirming_verifies_logs_in_and_opens_the_dashboard_once(app, client):
    token = _registered_token(app, client)
    response = post_form(client, f"/verify-email/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert _user(app, "nina@example.com")["verified"] is True
    assert _signed_in(client)
    again = client.get(f"/verify-email/{token}")
    assert again.status_code == 404 and "invalid or has expired" in _text(again)


def test_an_unknown_confirmation_link_says_so(client):
    assert client.get("/verify-email/not-a-real-token").status_code == 404
    response = post_form(client, "/verify-email/not-a-real-token", page="/login")
    assert response.status_code == 404 and "invalid or has expired" in _text(response)


# --- log in and out ------------------------------------------------------------------------------

def test_login_signs_in_with_a_new_session_and_opens_the_dashboard(client, ada):
    client.get("/login")
    cookie_before = client.get_cookie("checkie").value
    response = _log_in(client, email=" ADA@example.com ")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert client.get_cookie("checkie").value != cookie_before
    assert _signed_in(client)


def test_login_clears_whatever_the_session_carried_before(client, ada):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    _log_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"]


def test_login_follows_a_safe_next_path(client, ada):
    response = post_form(client, "/login", {"email": ada, "password": DEFAULT_PASSWORD, "next": "/account?tab=1"})
    assert response.headers["Location"] == "/account?tab=1"


def test_login_form_carries_the_next_parameter(client):
    assert 'name="next" type="hidden" value="/account"' in _text(client.get("/login?next=/account"))


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/x", "/\\evil.example", "javascript:alert(1)", "/\t/evil.example"]
)
def test_login_ignores_a_next_that_leaves_the_site(client, ada, target):
    response = post_form(client, "/login", {"email": ada, "password": DEFAULT_PASSWORD, "next": target})
    assert response.headers["Location"] == "/dashboard"


def test_a_wrong_password_is_refused_with_a_form_error(client, ada):
    response = _log_in(client, password="not my password")
    assert response.status_code == 422
    assert '<div role="alert" class="form-error"><p>Invalid email or password.</p>' in _text(response)
    assert not _signed_in(client)


def test_a_missing_password_is_shown_beside_the_field(client):
    response = _log_in(client, password="")
    assert response.status_code == 422
    assert '<small id="password-error" class="field-error">Enter your password.</small>' in _text(response)


def test_login_over_htmx_answers_with_the_form_fragment_or_a_redirect_header(client, ada):
    failed = _log_in(client, password="not my password", headers=HTMX)
    assert failed.status_code == 422 and "<html" not in _text(failed) and "Invalid email or password." in _text(failed)
    ok = _log_in(client, headers=HTMX)
    assert ok.status_code == 200 and ok.headers["HX-Redirect"] == "/dashboard"
    assert _signed_in(client)


def test_an_unverified_account_is_asked_to_confirm_and_gets_a_new_link(app, client):
    _register(client)
    response = _log_in(client, email="nina@example.com")
    assert response.status_code == 422
    assert "Please confirm your email address first" in _text(response)
    assert _kinds(app, "nina@example.com") == ["verify_email", "verify_email"]
    assert not _signed_in(client)


def test_logout_is_a_post_that_ends_the_session(app, client):
    with app_db(app) as db:
        login(client, verified_user(db))
    assert _signed_in(client)
    assert client.get("/logout").status_code == 405
    response = post_form(client, "/logout", page="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "You have been logged out." in _text(client.get("/login"))
    assert not _signed_in(client)


def _copy_of_cookies(app, client):
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    copy = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return copy


def test_a_cookie_copied_before_logout_no_longer_opens_the_dashboard(app, client, ada):
    with app_db(app) as db:
        store_id = make_store(db, owner=db.scalar(sa.select(User).where(User.email == ada))).id
        db.commit()
    payments = f"/dashboard/stores/{store_id}/payments"
    other_browser = app.test_client()
    assert _log_in(client).status_code == 303 and _log_in(other_browser).status_code == 303
    stolen = _copy_of_cookies(app, client)
    assert stolen.get(payments).status_code == 200

    assert post_form(client, "/logout", page="/account").status_code == 303
    replayed = stolen.get(payments)
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login?next=")
    over_htmx = stolen.get(payments, headers=HTMX)
    assert over_htmx.status_code == 302 and over_htmx.headers["Location"].startswith("/login?next=")
    assert other_browser.get(payments).status_code == 200  # logging out one browser leaves the others


def test_a_session_ends_at_its_expiry_and_the_purge_task_removes_it(app, client, ada):
    assert _log_in(client).status_code == 303 and _signed_in(client)
    with app_db(app) as db:
        db.execute(sa.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert not _signed_in(client)
    assert purge_user_sessions.call_local() == 1


def test_pages_behind_login_send_visitors_to_log_in_and_back(client, ada):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    after = post_form(client, response.headers["Location"], {"email": ada, "password": DEFAULT_PASSWORD})
    assert after.headers["Location"] == "/account"


# --- forgot and reset password -------------------------------------------------------------------

def _reset_token(app, client, email="ada@example.com") -> str:
    post_form(client, "/forgot-password", {"email": email})
    return _token(app, email, "password_reset", "reset-password")


def test_forgot_password_emails_a_reset_link_to_a_known_address(app, client, ada):
    response = post_form(client, "/forgot-password", {"email": "Ada@example.com"})
    assert response.status_code == 303 and response.headers["Location"] == "/forgot-password/check-inbox"
    assert _token(app, ada, "password_reset", "reset-password")
    assert "Check your inbox" in _text(client.get("/forgot-password/check-inbox"))


def test_forgot_password_with_an_invalid_form_shows_the_error_beside_the_field(client):
    response = post_form(client, "/forgot-password", {"email": ""})
    assert response.status_code == 422
    assert '<small id="email-error" class="field-error">Enter your email address.</small>' in _text(response)
    fragment = post_form(client, "/forgot-password", {"email": ""}, headers=HTMX)
    assert fragment.status_code == 422 and "<html" not in _text(fragment)


def test_the_reset_page_shows_the_form_for_a_live_link(app, client, ada):
    token = _reset_token(app, client)
    page = client.get(f"/reset-password/{token}")
    assert page.status_code == 200
    assert 'name="password"' in _text(page) and 'name="confirm"' in _text(page) and ada in _text(page)


def test_resetting_sets_the_password_logs_in_and_uses_the_link_up(app, client, ada):
    token = _reset_token(app, client)
    response = post_form(client, f"/reset-password/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert _signed_in(client)
    again = client.get(f"/reset-password/{token}")
    assert again.status_code == 404 and "invalid or has expired" in _text(again)
    assert _log_in(app.test_client(), password=NEW_PASSWORD).status_code == 303


def test_an_expired_reset_link_shows_the_invalid_page(app, client, ada):
    token = _reset_token(app, client)
    with app_db(app) as db:
        expire_tokens(db, TokenPurpose.PASSWORD_RESET)
    assert client.get(f"/reset-password/{token}").status_code == 404
    response = post_form(client, f"/reset-password/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page="/login")
    assert response.status_code == 404 and "Send me a new link" in _text(response)
    assert _log_in(client, password=NEW_PASSWORD).status_code == 422


def test_reset_errors_are_shown_beside_the_fields(app, client, ada):
    token = _reset_token(app, client)
    weak = post_form(client, f"/reset-password/{token}", {"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    assert '<small id="password-error" class="field-error">Use at least 10 characters.' in _text(weak)
    mismatch = post_form(
        client, f"/reset-password/{token}", {"password": NEW_PASSWORD, "confirm": "something else"}, headers=HTMX
    )
    assert mismatch.status_code == 422 and "<html" not in _text(mismatch)
    assert '<small id="confirm-error" class="field-error">The two passwords do not match.' in _text(mismatch)


def test_resetting_the_password_ends_every_other_session(app, client, ada):
    elsewhere = app.test_client()
    assert _log_in(elsewhere).status_code == 303 and _signed_in(elsewhere)
    token = _reset_token(app, client)
    post_form(client, f"/reset-password/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert _signed_in(client)
    assert not _signed_in(elsewhere)


# --- rate limits ---------------------------------------------------------------------------------

def test_login_attempts_on_one_address_are_limited_whatever_the_ip(client, ada):
    token = csrf_token(client)

    def attempt(email: str, ip: str) -> int:
        data = {"csrf_token": token, "email": email, "password": "a guess"}
        return client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip}).status_code

    assert [attempt("Ada@example.com", f"203.0.113.{n}") for n in range(6)] == [422] * 5 + [429]
    assert attempt("someone@example.com", "203.0.113.99") == 422  # another address is not affected


def test_spellings_the_lookup_folds_together_share_one_login_limit(app, client, ada):
    """`ada@ｅxample.com` (a full-width ｅ) opens Ada's account, so it must count against her limit."""
    assert _log_in(app.test_client(), "ada@ｅxample.com").status_code == 303  # the same account
    token = csrf_token(client)
    spellings = ["ada@ｅxample.com", " ADA@EXAMPLE.COM"]

    def attempt(n: int) -> int:
        data = {"csrf_token": token, "email": spellings[n % 2], "password": "a guess"}
        return client.post("/login", data=data, environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code

    assert [attempt(n) for n in range(5)] == [422] * 4 + [429]


def test_password_reset_requests_for_one_address_are_limited(client):
    token = csrf_token(client)
    answers = [
        client.post("/forgot-password", data={"csrf_token": token, "email": "ada@example.com"},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
        for n in range(6)
    ]
    assert answers == [303] * 5 + [429]


def test_login_attempts_from_one_ip_are_limited(client):
    token = csrf_token(client)
    answers = [
        client.post("/login", data={"csrf_token": token, "email": f"user{n}@example.com", "password": "guess"}).status_code
        for n in range(21)
    ]
    assert answers == [422] * 20 + [429]
    assert "Too many requests" in _text(client.post("/login", data={"csrf_token": token, "email": "x@example.com"}))
