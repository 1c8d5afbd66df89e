"""Merchant accounts: sign-up, sign-in, emailed links, profile, password and deletion.

The dashboard and the JSON API both call these. Two rules shape them (SPEC §9): answers never
reveal whether an address has an account (the difference only reaches that address's inbox),
and changing or resetting a password ends every other session of the user.
Emailed-link mechanics live in `links`, the emails in `emails`, API tokens in `refresh`,
dashboard sessions in `browser_sessions`, the stored form of an address in `addresses`.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.accounts import browser_sessions, emails, links, refresh, reset_requests, tasks
from checkie.accounts.addresses import account_email, find_user_by_email
from checkie.accounts.models import TokenPurpose, User, new_session_epoch
from checkie.database import utcnow
from checkie.email_addresses import EmailNotValidError
from checkie.errors import AuthenticationFailed, ValidationFailed
from checkie.security import DUMMY_PASSWORD_HASH, hash_password, verify_password
from checkie.tasks import enqueue_after_commit

MIN_PASSWORD_LENGTH = 10
#: argon2 would hash more, but hashing megabytes per request is a cheap denial of service.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 120

INVALID_CREDENTIALS = "Invalid email or password."
EMAIL_TAKEN = "An account with this email address already exists."
INVALID_LINK = "This link is invalid or has expired."


# --- validation -------------------------------------------------------------------------------

def _valid_email(raw: str) -> str:
    """The stored form of an address (`addresses.account_email`). No DNS lookup, so sign-up
    works offline and never waits on a resolver; `.test` addresses (reserved by RFC 2606, they
    never receive mail) are allowed for demos and tests."""
    try:
        return account_email(raw)
    except EmailNotValidError as exc:
        raise ValidationFailed.on("email", str(exc)) from None


def _password_problem(password: str, *, email: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if password.strip().lower() == email.strip().lower():
        return "Your password cannot be your email address."
    return None


def _clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ValidationFailed.on("name", "Tell us your name.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed.on("name", f"Use at most {MAX_NAME_LENGTH} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValidationFailed.on("name", "Your name cannot contain control characters.")
    return name


def _check_password(password: str, *, email: str, field: str = "password") -> None:
    problem = _password_problem(password, email=email)
    if problem:
        raise ValidationFailed.on(field, problem)


def _validate_new_user(*, email: str, password: str, name: str) -> tuple[str, str]:
    """(email, name) cleaned; otherwise one ValidationFailed naming every bad field at once."""
    fields: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for field, clean, raw in (("email", _valid_email, email), ("name", _clean_name, name)):
        try:
            cleaned[field] = clean(raw)
        except ValidationFailed as exc:
            fields.update(exc.fields or {})
    problem = _password_problem(password, email=email)
    if problem:
        fields["password"] = [problem]
    if fields:
        raise ValidationFailed("Some fields are invalid.", fields=fields)
    return cleaned["email"], cleaned["name"]


def _claim_email(db: Session, user: User, email: str) -> None:
    """Give `user` the address and flush it in a savepoint: when two requests race for one
    address, the unique index decides, and the loser gets a validation error, not a crash."""
    try:
        with db.begin_nested():
            user.email = email
            db.add(user)
    except IntegrityError:
        raise ValidationFailed.on("email", EMAIL_TAKEN) from None


# --- users --------------------------------------------------------------------------------------

def _insert_user(db: Session, *, email: str, password: str, name: str, verified: bool) -> User:
    user = User(email=email, name=name, password_hash=hash_password(password), email_verified_at=utcnow() if verified else None)
    _claim_email(db, user, email)
    return user


def create_user(db: Session, *, email: str, password: str, name: str, verified: bool = False) -> User:
    """Create a user with an argon2id password hash. `verified` marks the address confirmed
    (seed data, trusted callers); otherwise it waits for the emailed link.

    Raises ValidationFailed on `email`, `password` and/or `name`; a taken address is an
    `email` error, so callers that must not reveal it use `register` instead."""
    email, name = _validate_new_user(email=email, password=password, name=name)
    if find_user_by_email(db, email) is not None:
        raise ValidationFailed.on("email", EMAIL_TAKEN)
    return _insert_user(db, email=email, password=password, name=name, verified=verified)


def register(db: Session, *, email: str, password: str, name: str) -> User | None:
    """Dashboard sign-up that does not reveal whether the address is taken.

    The input is validated before the lookup, so errors cannot depend on the address being
    known. A new address gets an unverified user and a confirmation link; a known one gets an
    "already registered" email pointing to log-in and password reset. Both paths hash the
    password, so they cost the same time. Returns the new user, or None for a known address."""
    email, name = _validate_new_user(email=email, password=password, name=name)
    existing = find_user_by_email(db, email)
    if existing is not None:
        hash_password(password)  # same argon2 cost as creating the account: no timing oracle
        emails.send_already_registered_email(db, existing)
        return None
    user = _insert_user(db, email=email, password=password, name=name, verified=False)
    emails.send_verification_email(db, user)
    return user


def sign_up_for_api(db: Session, *, email: str, password: str, name: str) -> User:
    """JSON API sign-up: the answer carries tokens (SPEC §6.6), so it cannot hide a taken address
    (422 on `email`). The user may use the API unverified, since an integration should not wait
    on a mailbox; a confirmation link is emailed because the dashboard's log-in needs it."""
    user = create_user(db, email=email, password=password, name=name)
    emails.send_verification_email(db, user)
    return user


def authenticate(db: Session, *, email: str, password: str) -> User:
    """The user whose password matches, whether or not the address is verified (the caller
    decides: the dashboard requires it, the API does not).

    An unknown address is checked against a dummy hash, so both failures take the same time and
    raise the same AuthenticationFailed. Rehashes the password when argon2's parameters changed."""
    user = find_user_by_email(db, email)
    ok, needs_rehash = verify_password(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    if user is None or not ok:
        raise AuthenticationFailed(INVALID_CREDENTIALS)
    if needs_rehash:
        user.password_hash = hash_password(password)
    return user


def resend_verification(db: Session, user: User) -> None:
    """A new confirmation link for an unverified user (the previous one stops working)."""
    if user.email_verified_at is None:
        emails.send_verification_email(db, user)


def user_for_link(db: Session, token: str, purpose: TokenPurpose) -> User | None:
    """Whose live link this is, without using it (for the page that shows the link's button)."""
    return links.user_for_link(db, token, purpose)


def verify_email(db: Session, token: str) -> User:
    """Use a confirmation link: the user's current address is confirmed. A link sent to an
    earlier address was retired when the address changed, so it cannot confirm the new one."""
    user = links.consume_link_token(db, token, TokenPurpose.EMAIL_VERIFICATION)
    if user is None:
        raise ValidationFailed.on("token", INVALID_LINK)
    user.email_verified_at = user.email_verified_at or utcnow()
    return user


# --- passwords -----------------------------------------------------------------------------------

def _set_password(db: Session, user: User, password: str) -> None:
    """Store a new password and end every session: browser sessions are deleted, access tokens
    carry the session epoch that rotates here, refresh tokens are revoked, and pending reset
    links are retired."""
    user.password_hash = hash_password(password)
    browser_sessions.end_user_sessions(db, user)
    user.session_epoch = new_session_epoch()
    refresh.revoke_user_refresh_tokens(db, user)
    links.retire_link_tokens(db, user, TokenPurpose.PASSWORD_RESET)
    emails.send_password_changed_email(db, user)


def request_password_reset(db: Session, *, email: str) -> None:
    """Have a one-hour reset link emailed if the address has an account, once the caller
    commits. The request does the same work for every address, one outbox row with the address
    in stored form and its task; the task looks the account up, so neither the answer nor its
    timing tells whether one exists. An address that does not validate has no account: nothing
    is written."""
    try:
        address = account_email(email)
    except EmailNotValidError:
        return
    request = reset_requests.record_request(db, address)
    enqueue_after_commit(tasks.email_password_reset, request.id)


def reset_password(db: Session, *, token: str, password: str) -> User:
    """Set a new password through a reset link, which is used up. Every session ends, and the
    address counts as confirmed (the link reached its inbox). ValidationFailed on `token`
    (invalid, used or expired) or `password` (policy)."""
    user = links.user_for_link(db, token, TokenPurpose.PASSWORD_RESET)
    if user is None:
        raise ValidationFailed.on("token", INVALID_LINK)
    _check_password(password, email=user.email)
    if links.consume_link_token(db, token, TokenPurpose.PASSWORD_RESET) is None:
        raise ValidationFailed.on("token", INVALID_LINK)  # used by a concurrent request meanwhile
    _set_password(db, user, password)
    user.email_verified_at = user.email_verified_at or utcnow()
    return user


def check_current_password(user: User, password: str | None, *, field: str, message: str) -> None:
    ok, _ = verify_password(user.password_hash, password or "")
    if not ok:
        raise ValidationFailed.on(field, message)


def change_password(db: Session, user: User, *, current_password: str, new_password: str) -> None:
    """Change a known password. Every session of the user ends, including the caller's (the
    dashboard signs its own session in again); a notice goes to the user's address.
    ValidationFailed on `current_password` or `new_password`."""
    check_current_password(user, current_password, field="current_password", message="Your current password is not correct.")
    _check_password(new_password, email=user.email, field="new_password")
    _set_password(db, user, new_password)


# --- profile ---------------------------------------------------------------------------------

def update_profile(
    db: Session, user: User, *, name: str | None = None, email: str | None = None, current_password: str | None = None
) -> User:
    """Rename and/or change the address; None leaves a value as it is.

    A new address needs the current password (a hijacked session alone must not be able to
    redirect the account's reset emails), starts unverified and gets a confirmation link.
    Reset links already sent to the old address stop working: it may be the one being left
    because someone else reads it."""
    new_name = _clean_name(name) if name is not None else user.name
    new_email = _valid_email(email) if email is not None else user.email
    email_changes = new_email != user.email
    if email_changes:
        check_current_password(
            user, current_password, field="current_password", message="Enter your current password to change your email address."
        )
        if find_user_by_email(db, new_email) is not None:
            raise ValidationFailed.on("email", EMAIL_TAKEN)
    user.name = new_name  # only once everything is known to be valid: no half-applied change
    if email_changes:
        _claim_email(db, user, new_email)
        user.email_verified_at = None
        links.retire_link_tokens(db, user, TokenPurpose.PASSWORD_RESET)
        emails.send_verification_email(db, user)
    return user
