"""The account emails. Links are absolute, built from APP_URL, because the email is read
outside any request; the paths are the dashboard's public URLs (SPEC §6.5)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from checkie.accounts.links import LIFETIMES, issue_link_token
from checkie.accounts.models import TokenPurpose, User
from checkie.notifications.services import queue_email


def absolute_url(path: str) -> str:
    return current_app.config["APP_URL"] + path


def _hours(purpose: TokenPurpose) -> int:
    return int(LIFETIMES[purpose].total_seconds() // 3600)


def send_verification_email(db: Session, user: User) -> None:
    """Email a fresh confirmation link for the user's current address (older links stop working)."""
    token = issue_link_token(db, user, TokenPurpose.EMAIL_VERIFICATION)
    queue_email(
        db, to=user.email, template="verify_email", subject="Confirm your email address for Checkie",
        name=user.name, link=absolute_url(f"/verify-email/{token}"), hours=_hours(TokenPurpose.EMAIL_VERIFICATION),
    )


def send_password_reset_email(db: Session, user: User) -> None:
    """Email a fresh one-hour reset link (older reset links stop working)."""
    token = issue_link_token(db, user, TokenPurpose.PASSWORD_RESET)
    queue_email(
        db, to=user.email, template="password_reset", subject="Reset your Checkie password",
        name=user.name, link=absolute_url(f"/reset-password/{token}"), hours=_hours(TokenPurpose.PASSWORD_RESET),
    )


def send_already_registered_email(db: Session, user: User) -> None:
    """Someone tried to sign up with this address: tell its owner how to get in instead. This is
    what keeps the sign-up answer identical for new and known addresses."""
    queue_email(
        db, to=user.email, template="already_registered", subject="You already have a Checkie account",
        name=user.name, login_url=absolute_url("/login"), reset_url=absolute_url("/forgot-password"),
    )


def send_password_changed_email(db: Session, user: User) -> None:
    """A security notice: if the owner did not change the password, they learn it at once."""
    queue_email(
        db, to=user.email, template="password_changed", subject="Your Checkie password was changed",
        name=user.name, reset_url=absolute_url("/forgot-password"),
    )
