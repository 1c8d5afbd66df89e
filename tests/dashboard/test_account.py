"""The account page over HTTP: profile, password change, deletion."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.accounts import refresh
from checkie.accounts.models import RefreshToken, User
from tests.apps import app_db
from tests.emails import emails_to, latest_token
from tests.factories import DEFAULT_PASSWORD, add_member, make_store, verified_user
from tests.http import login, post_form

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "a brand new passphrase"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


@pytest.fixture
def ada(app, client) -> int:
    """A verified user signed in on `client`; her id."""
    with app_db(app) as db:
        user = verified_user(db)
        login(client, user)
        return user.id


def _profile(app, user_id: int) -> dict:
    with app_db(app) as db:
        user = db.get(User, user_id)
        return {"name": user.name, "email": user.email, "verified": user.email_verified_at is not None}


def _post(client, url: str, data: dict, **kwargs):
    return post_form(client, url, data, page="/account", **kwargs)


# --- the page ------------------------------------------------------------------------------------

def test_the_account_page_needs_a_login(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Faccount"


def test_the_account_page_shows_the_three_forms(client, ada):
    response = client.get("/account")
    assert response.status_code == 200
    body = _text(response)
    assert 'name="profile-name"' in body and 'value="Ada Lovelace"' in body and 'value="ada@example.com"' in body
    assert 'name="password-current_password"' in body and 'name="password-new_password"' in body
    assert 'name="delete-password"' in body and "Delete my account" in body


# --- profile -------------------------------------------------------------------------------------

def test_saving_the_profile_renames_and_redirects_back(app, client, ada):
    response = _post(client, "/account/profile", {"profile-name": "Ada King", "profile-email": "ada@example.com"})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert _profile(app, ada) == {"name": "Ada King", "email": "ada@example.com", "verified": True}
    assert "Your profile is saved." in _text(client.get("/account"))


def test_an_invalid_profile_shows_the_error_beside_the_field(app, client, ada):
    response = _post(client, "/account/profile", {"profile-name": "", "profile-email": "ada@example.com"})
    assert response.status_code == 422
    assert '<small id="profile-name-error" class="field-error">Tell us your name.</small>' in _text(response)
    assert "<html" in _text(response) and 'name="password-new_password"' in _text(response)
    assert _profile(app, ada)["name"] == "Ada Lovelace"


def test_the_profile_over_htmx_answers_with_its_form_or_a_redirect_header(client, ada):
    invalid = _post(client, "/account/profile", {"profile-name": "", "profile-email": "ada@example.com"}, headers=HTMX)
    assert invalid.status_code == 422 and "<html" not in _text(invalid)
    assert 'id="profile-form"' in _text(invalid) and 'name="password-new_password"' not in _text(invalid)
    valid = _post(client, "/account/profile", {"profile-name": "Ada King", "profile-email": "ada@example.com"}, headers=HTMX)
    assert valid.status_code == 200 and valid.headers["HX-Redirect"] == "/account"


def test_changing_the_email_needs_the_current_password(app, client, ada):
    response = _post(client, "/account/profile", {"profile-name": "Ada", "profile-email": "new@example.com"})
    assert response.status_code == 422
    assert 'id="profile-current_password-error" class="field-error">Enter your current password' in _text(response)
    assert _profile(app, ada)["email"] == "ada@example.com"


def test_a_new_email_is_unconfirmed_until_its_link_is_used(app, client, ada):
    response = _post(client, "/account/profile", {
        "profile-name": "Ada", "profile-email": "new@example.com", "profile-current_password": DEFAULT_PASSWORD,
    })
    assert response.status_code == 303
    assert _profile(app, ada) == {"name": "Ada", "email": "new@example.com", "verified": False}
    assert "We sent a confirmation link to new@example.com." in _text(client.get("/account"))
    with app_db(app) as db:
        token = latest_token(db, "new@example.com", "verify_email", "verify-email")
    post_form(client, f"/verify-email/{token}")
    assert _profile(app, ada)["verified"] is True


# --- password ------------------------------------------------------------------------------------

def _change_password(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None, **kwargs):
    data = {"password-current_password": current, "password-new_password": new, "password-confirm": confirm or new}
    return _post(client, "/account/password", data, **kwargs)


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, ada):
    elsewhere = app.test_client()
    assert post_form(elsewhere, "/login", {"email": "ada@example.com", "password": DEFAULT_PASSWORD}).status_code == 303
    assert _signed_in(elsewhere)
    with app_db(app) as db:
        refresh.issue_token_pair(db, db.get(User, ada))  # an API client of the same account
        db.commit()
    response = _change_password(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert _signed_in(client)
    assert not _signed_in(elsewhere)
    with app_db(app) as db:
        live = sa.select(sa.func.count(RefreshToken.id)).where(RefreshToken.user_id == ada, RefreshToken.revoked_at.is_(None))
        assert db.scalar(live) == 0
        assert [m.kind for m in emails_to(db, "ada@example.com")] == ["password_changed"]


def test_a_wrong_current_password_is_shown_beside_the_field(client, ada):
    response = _change_password(client, current="not my password")
    assert response.status_code == 422
    error = '<small id="password-current_password-error" class="field-error">Your current password is not correct.'
    assert error in _text(response)
    assert _signed_in(client)


def test_the_password_form_over_htmx_answers_with_its_fragment(client, ada):
    weak = _change_password(client, new="short", headers=HTMX)
    assert weak.status_code == 422 and "<html" not in _text(weak) and 'id="password-form"' in _text(weak)
    assert "Use at least 10 characters." in _text(weak)
    mismatch = _change_password(client, confirm="something else entirely", headers=HTMX)
    assert mismatch.status_code == 422 and "The two passwords do not match." in _text(mismatch)
    ok = _change_password(client, headers=HTMX)
    assert ok.status_code == 200 and ok.headers["HX-Redirect"] == "/account"
    assert _signed_in(client)


# --- deletion ------------------------------------------------------------------------------------

def test_deleting_the_account_signs_out_and_removes_the_user(app, client, ada):
    response = _post(client, "/account/delete", {"delete-password": DEFAULT_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Your account has been deleted." in _text(client.get("/login"))
    assert not _signed_in(client)
    with app_db(app) as db:
        assert db.get(User, ada) is None


def test_deleting_needs_the_password(app, client, ada):
    response = _post(client, "/account/delete", {"delete-password": "not my password"}, headers=HTMX)
    assert response.status_code == 422 and "<html" not in _text(response)
    assert '<small id="delete-password-error" class="field-error">That password is not correct.' in _text(response)
    with app_db(app) as db:
        assert db.get(User, ada) is not None


def test_a_store_owner_is_told_to_delete_the_stores_first(app, client, ada):
    with app_db(app) as db:
        make_store(db, owner=db.get(User, ada), name="Acme Goods")
        add_member(db, make_store(db, name="Someone Else's"), db.get(User, ada))
        db.commit()
    owned_note = _text(client.get("/account")).split("You own")[1].split("</p>")[0]
    assert "Acme Goods" in owned_note and "Delete that store first" in owned_note
    assert "Someone Else" not in owned_note  # a store she is only a member of does not block anything
    response = _post(client, "/account/delete", {"delete-password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    assert "You own Acme Goods. Delete that store first" in _text(response)
    with app_db(app) as db:
        assert db.get(User, ada) is not None
