"""Helpers for account tests: verified users, the emails they receive, links inside them."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from checkie.accounts.models import TokenPurpose, User, UserToken
from checkie.database import utcnow
from checkie.extensions import db as _db
from checkie.notifications.models import EmailMessage
from tests.fixtures import DEFAULT_PASSWORD, make_user

_CSRF_VALUE = re.compile(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]+|("X-CSRFToken": ")[^"]+')


@contextmanager
def app_db(app) -> Iterator:
    """A database session in an app context of its own, closed again before the next request.

    HTTP tests must not hold an app context while they send requests (as the `db` fixture
    does): Flask reuses a pushed app context, so every request of every client would share one
    `g` (Flask-Login's loaded user, the CSRF token) and one SQLAlchemy session, which no real
    server does, and session tests would pass for the wrong reasons."""
    with app.app_context():
        yield _db.session


def verified_user(db, *, email: str = "ada@example.com", password: str = DEFAULT_PASSWORD, name: str = "Ada Lovelace") -> User:
    """A user who confirmed their address (the dashboard's log-in requires it), committed.
    Built by the shared factory, whose cached password hash keeps argon2 out of test set-up."""
    user = make_user(db, email=email, password=password, name=name)
    user.email_verified_at = utcnow()
    db.commit()
    return user


def emails_to(db, address: str, kind: str | None = None) -> list[EmailMessage]:
    stmt = sa.select(EmailMessage).where(EmailMessage.to_address == address).order_by(EmailMessage.id)
    if kind:
        stmt = stmt.where(EmailMessage.kind == kind)
    return list(db.scalars(stmt))


def token_from_email(message: EmailMessage, path: str) -> str:
    """The token of the `<APP_URL>/<path>/<token>` link in an email's text."""
    match = re.search(rf"http://localhost/{path}/([A-Za-z0-9_-]+)", message.text_body)
    assert match, f"no /{path}/ link in: {message.text_body}"
    return match.group(1)


def latest_token(db, address: str, kind: str, path: str) -> str:
    messages = emails_to(db, address, kind)
    assert messages, f"no {kind} email to {address}"
    return token_from_email(messages[-1], path)


def expire_tokens(db, purpose: TokenPurpose) -> None:
    """Push every token of `purpose` past its expiry, as if the lifetime had run out."""
    past = utcnow() - timedelta(seconds=1)
    db.execute(sa.update(UserToken).where(UserToken.purpose == purpose).values(expires_at=past))
    db.commit()


def without_volatile(html: str, *emails: str) -> str:
    """A page with its CSRF tokens and the given addresses blanked, for comparing two answers."""
    html = _CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(2)) + "CSRF", html)
    for email in sorted(emails, key=len, reverse=True):  # longest first: one may contain another
        html = html.replace(email, "EMAIL")
    return html

