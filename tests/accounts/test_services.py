"""The account rules, through the service functions the dashboard and the API share."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from checkie.accounts import refresh, services, tasks
from checkie.accounts.models import PasswordResetRequest, RefreshToken, TokenPurpose, User, UserToken
from checkie.database import utcnow
from checkie.errors import AuthenticationFailed, ValidationFailed
from checkie.security import hash_token, verify_password
from tests.emails import emails_to, latest_token
from tests.factories import DEFAULT_PASSWORD, expire_tokens, verified_user

NEW_PASSWORD = "a brand new passphrase"


def _fields(excinfo) -> set[str]:
    return set(excinfo.value.fields)


# --- create_user ---------------------------------------------------------------------------------

def test_create_user_normalises_the_email_and_hashes_the_password_with_argon2id(db):
    user = services.create_user(db, email="  Ada@Example.COM ", password=DEFAULT_PASSWORD, name="  Ada   Lovelace ")
    assert user.email == "ada@example.com"
    assert user.name == "Ada Lovelace"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)[0]
    assert user.email_verified_at is None


def test_create_user_verified_marks_the_address_confirmed(db):
    user = services.create_user(db, email="seed@example.com", password=DEFAULT_PASSWORD, name="Seed", verified=True)
    assert user.email_verified_at is not None


@pytest.mark.parametrize(
    ("email", "password", "name", "field"),
    [
        ("not-an-email", DEFAULT_PASSWORD, "Ada", "email"),
        ("ada@", DEFAULT_PASSWORD, "Ada", "email"),
        ("ada@example.com", "short", "Ada", "password"),
        ("ada@example.com", "x" * 257, "Ada", "password"),
        ("longaddress@example.com", " LongAddress@Example.com", "Ada", "password"),
        ("ada@example.com", DEFAULT_PASSWORD, "   ", "name"),
        ("ada@example.com", DEFAULT_PASSWORD, "x" * 121, "name"),
        ("ada@example.com", DEFAULT_PASSWORD, "Ada\x00", "name"),
    ],
)
def test_create_user_refuses_input_that_breaks_a_rule(db, email, password, name, field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_user(db, email=email, password=password, name=name)
    assert _fields(excinfo) == {field}
    assert db.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_user_reports_every_bad_field_at_once(db):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_user(db, email="nope", password="short", name="")
    assert _fields(excinfo) == {"email", "password", "name"}


def test_create_user_refuses_a_taken_email_whatever_its_case(db):
    services.create_user(db, email="ada@example.com", password=DEFAULT_PASSWORD, name="Ada")
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_user(db, email="ADA@example.com ", password=DEFAULT_PASSWORD, name="Other Ada")
    assert _fields(excinfo) == {"email"}


def test_test_domain_addresses_are_accepted_for_demos(db):
    user = services.create_user(db, email="demo@checkie.test", password=DEFAULT_PASSWORD, name="Demo", verified=True)
    assert user.email == "demo@checkie.test"


# --- register (dashboard sign-up) ----------------------------------------------------------------

def test_register_a_new_address_creates_an_unverified_user_and_emails_a_confirmation_link(db):
    user = services.register(db, email="new@example.com", password=DEFAULT_PASSWORD, name="Nina New")
    db.commit()
    assert user is not None and user.email_verified_at is None
    assert [m.kind for m in emails_to(db, "new@example.com")] == ["verify_email"]
    token = latest_token(db, "new@example.com", "verify_email", "verify-email")
    stored = db.scalar(sa.select(UserToken).where(UserToken.user_id == user.id))
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert timedelta(hours=47) < stored.expires_at - utcnow() <= timedelta(hours=48)


def test_register_a_known_address_creates_nothing_and_tells_the_owner(db):
    owner = verified_user(db, email="known@example.com")
    assert services.register(db, email="Known@example.com", password="another password!", name="Mallory") is None
    db.commit()
    assert db.scalar(sa.select(sa.func.count(User.id))) == 1
    assert [m.kind for m in emails_to(db, "known@example.com")] == ["already_registered"]
    body = emails_to(db, "known@example.com")[0].text_body
    assert "http://localhost/login" in body and "http://localhost/forgot-password" in body
    db.refresh(owner)
    assert verify_password(owner.password_hash, DEFAULT_PASSWORD)[0]


def test_register_validates_the_same_way_for_known_and_new_addresses(db):
    verified_user(db, email="known@example.com")
    for email in ("known@example.com", "new@example.com"):
        with pytest.raises(ValidationFailed) as excinfo:
            services.register(db, email=email, password="short", name="X")
        assert _fields(excinfo) == {"password"}


# --- authenticate --------------------------------------------------------------------------------

def test_authenticate_returns_the_user_for_the_right_password(db):
    user = verified_user(db)
    assert services.authenticate(db, email=" ADA@example.com", password=DEFAULT_PASSWORD).id == user.id


def test_authenticate_fails_the_same_way_for_a_wrong_password_and_an_unknown_email(db):
    verified_user(db)
    messages = []
    for email, password in (("ada@example.com", "wrong password!"), ("nobody@example.com", DEFAULT_PASSWORD), ("\x00", "x")):
        with pytest.raises(AuthenticationFailed) as excinfo:
            services.authenticate(db, email=email, password=password)
        messages.append(excinfo.value.message)
    assert messages == [services.INVALID_CREDENTIALS] * 3


def test_authenticate_rehashes_a_password_hashed_with_older_parameters(db):
    user = verified_user(db)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(DEFAULT_PASSWORD)
    db.commit()
    old_hash = user.password_hash
    services.authenticate(db, email=user.email, password=DEFAULT_PASSWORD)
    assert user.password_hash != old_hash
    assert verify_password(user.password_hash, DEFAULT_PASSWORD) == (True, False)


# --- email verification --------------------------------------------------------------------------

def test_verify_email_confirms_the_address_once(db):
    user = services.register(db, email="new@example.com", password=DEFAULT_PASSWORD, name="Nina")
    db.commit()
    token = latest_token(db, "new@example.com", "verify_email", "verify-email")
    assert services.user_for_link(db, token, TokenPurpose.EMAIL_VERIFICATION).id == user.id
    assert services.verify_email(db, token).email_verified_at is not None
    db.commit()
    with pytest.raises(ValidationFailed):
        services.verify_email(db, token)


def test_a_new_confirmation_link_retires_the_previous_one(db):
    user = services.register(db, email="new@example.com", password=DEFAULT_PASSWORD, name="Nina")
    db.commit()
    first = latest_token(db, "new@example.com", "verify_email", "verify-email")
    services.resend_verification(db, user)
    db.commit()
    second = latest_token(db, "new@example.com", "verify_email", "verify-email")
    assert services.user_for_link(db, first, TokenPurpose.EMAIL_VERIFICATION) is None
    assert services.verify_email(db, second).id == user.id


def test_an_expired_confirmation_link_does_not_work(db):
    services.register(db, email="new@example.com", password=DEFAULT_PASSWORD, name="Nina")
    db.commit()
    token = latest_token(db, "new@example.com", "verify_email", "verify-email")
    expire_tokens(db, TokenPurpose.EMAIL_VERIFICATION)
    with pytest.raises(ValidationFailed):
        services.verify_email(db, token)


# --- password reset ------------------------------------------------------------------------------

def _reset_token(db, user: User) -> str:
    services.request_password_reset(db, email=user.email)
    db.commit()
    return latest_token(db, user.email, "password_reset", "reset-password")


def test_request_password_reset_emails_a_one_hour_link_only_to_known_addresses(db):
    user = verified_user(db)
    services.request_password_reset(db, email="nobody@example.com")
    token = _reset_token(db, user)
    assert emails_to(db, "nobody@example.com") == []
    stored = db.scalar(sa.select(UserToken).where(UserToken.token_hash == hash_token(token)))
    assert stored.purpose is TokenPurpose.PASSWORD_RESET
    assert timedelta(minutes=59) < stored.expires_at - utcnow() <= timedelta(hours=1)


def test_a_reset_request_whose_task_was_lost_is_sent_by_the_sweeper(db, monkeypatch):
    """Redis down or a worker killed: the request row outlives the task, and the sweeper sends it once."""
    user = verified_user(db)
    monkeypatch.setattr(tasks, "email_password_reset", lambda request_id: None)  # the task is lost
    services.request_password_reset(db, email=user.email)
    db.commit()
    monkeypatch.undo()
    tasks.sweep_password_reset_requests()
    assert emails_to(db, user.email) == []  # not yet: its task may still be on its way
    db.execute(sa.update(PasswordResetRequest).values(created_at=utcnow() - tasks.LOST_AFTER))
    db.commit()
    tasks.sweep_password_reset_requests()
    tasks.sweep_password_reset_requests()
    assert [m.kind for m in emails_to(db, user.email)] == ["password_reset"]
    assert db.scalar(sa.select(sa.func.count()).select_from(PasswordResetRequest)) == 0


def test_reset_password_sets_the_password_once_and_ends_every_session(db):
    user = verified_user(db)
    pair = refresh.issue_token_pair(db, user)
    epoch = user.session_epoch
    token = _reset_token(db, user)
    services.reset_password(db, token=token, password=NEW_PASSWORD)
    db.commit()
    assert services.authenticate(db, email=user.email, password=NEW_PASSWORD).id == user.id
    assert user.session_epoch != epoch
    with pytest.raises(AuthenticationFailed):
        refresh.rotate_refresh_token(db, pair.refresh_token)
    db.rollback()
    with pytest.raises(ValidationFailed) as excinfo:
        services.reset_password(db, token=token, password="yet another password")
    assert _fields(excinfo) == {"token"}


def test_reset_password_confirms_an_unverified_address(db):
    user = services.register(db, email="new@example.com", password=DEFAULT_PASSWORD, name="Nina")
    db.commit()
    services.reset_password(db, token=_reset_token(db, user), password=NEW_PASSWORD)
    assert user.email_verified_at is not None


def test_an_expired_reset_link_does_not_work(db):
    user = verified_user(db)
    token = _reset_token(db, user)
    expire_tokens(db, TokenPurpose.PASSWORD_RESET)
    with pytest.raises(ValidationFailed) as excinfo:
        services.reset_password(db, token=token, password=NEW_PASSWORD)
    assert _fields(excinfo) == {"token"}


def test_only_the_latest_reset_link_works(db):
    user = verified_user(db)
    first = _reset_token(db, user)
    second = _reset_token(db, user)
    with pytest.raises(ValidationFailed):
        services.reset_password(db, token=first, password=NEW_PASSWORD)
    services.reset_password(db, token=second, password=NEW_PASSWORD)


def test_a_confirmation_link_cannot_reset_a_password(db):
    services.register(db, email="new@example.com", password=DEFAULT_PASSWORD, name="Nina")
    db.commit()
    token = latest_token(db, "new@example.com", "verify_email", "verify-email")
    with pytest.raises(ValidationFailed):
        services.reset_password(db, token=token, password=NEW_PASSWORD)


def test_reset_password_applies_the_password_policy_without_using_the_link(db):
    user = verified_user(db)
    token = _reset_token(db, user)
    with pytest.raises(ValidationFailed) as excinfo:
        services.reset_password(db, token=token, password="short")
    assert _fields(excinfo) == {"password"}
    assert services.user_for_link(db, token, TokenPurpose.PASSWORD_RESET) is not None


# --- change password -----------------------------------------------------------------------------

def test_change_password_needs_the_current_password(db):
    user = verified_user(db)
    with pytest.raises(ValidationFailed) as excinfo:
        services.change_password(db, user, current_password="wrong password", new_password=NEW_PASSWORD)
    assert _fields(excinfo) == {"current_password"}


def test_change_password_applies_the_policy_to_the_new_one(db):
    user = verified_user(db)
    with pytest.raises(ValidationFailed) as excinfo:
        services.change_password(db, user, current_password=DEFAULT_PASSWORD, new_password=user.email)
    assert _fields(excinfo) == {"new_password"}


def test_change_password_ends_every_session_and_sends_a_notice(db):
    user = verified_user(db)
    pair = refresh.issue_token_pair(db, user)
    reset_token = _reset_token(db, user)
    epoch = user.session_epoch
    services.change_password(db, user, current_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD)
    db.commit()
    assert user.session_epoch != epoch
    assert db.scalar(sa.select(RefreshToken.revoked_at).where(RefreshToken.token_hash == hash_token(pair.refresh_token)))
    assert services.user_for_link(db, reset_token, TokenPurpose.PASSWORD_RESET) is None
    assert [m.kind for m in emails_to(db, user.email, "password_changed")] == ["password_changed"]
    with pytest.raises(AuthenticationFailed):
        services.authenticate(db, email=user.email, password=DEFAULT_PASSWORD)


# --- profile -------------------------------------------------------------------------------------

def test_update_profile_renames_without_touching_the_address(db):
    user = verified_user(db)
    services.update_profile(db, user, name="Ada King", email="ADA@example.com")
    assert (user.name, user.email) == ("Ada King", "ada@example.com")
    assert user.email_verified_at is not None
    assert emails_to(db, user.email, "verify_email") == []


def test_changing_the_email_needs_the_current_password(db):
    user = verified_user(db)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_profile(db, user, name="Ada King", email="new@example.com", current_password="wrong")
    assert _fields(excinfo) == {"current_password"}
    assert (user.name, user.email) == ("Ada Lovelace", "ada@example.com")


def test_a_new_email_starts_unverified_and_gets_a_confirmation_link(db):
    user = verified_user(db)
    reset_sent_to_old_address = _reset_token(db, user)
    services.update_profile(db, user, email="New@Example.com", current_password=DEFAULT_PASSWORD)
    db.commit()
    assert user.email == "new@example.com" and user.email_verified_at is None
    assert services.user_for_link(db, reset_sent_to_old_address, TokenPurpose.PASSWORD_RESET) is None
    token = latest_token(db, "new@example.com", "verify_email", "verify-email")
    assert services.verify_email(db, token).email_verified_at is not None


def test_changing_to_a_taken_email_is_refused(db):
    verified_user(db, email="taken@example.com")
    user = verified_user(db)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_profile(db, user, email="taken@example.com", current_password=DEFAULT_PASSWORD)
    assert _fields(excinfo) == {"email"}
