"""Dashboard sign-ins held server-side, so that logging out really ends one (SPEC §9).

A signed cookie cannot be taken back: a copy made before logging out would keep working. So
each sign-in is a `UserSession` row and the cookie carries only its random token (the row
stores the token's SHA-256). Every request loads the user through the row; logging out
deletes this browser's row, and changing or resetting the password deletes all of them.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from checkie.accounts.models import User, UserSession
from checkie.database import rows_changed, utcnow
from checkie.security import hash_token, new_token


def start_session(db: Session, user: User) -> str:
    """A new session for `user`, ending PERMANENT_SESSION_LIFETIME from now however active it
    is; returns the token for the cookie (256 bits)."""
    raw = new_token()
    expires_at = utcnow() + current_app.config["PERMANENT_SESSION_LIFETIME"]
    db.add(UserSession(id=hash_token(raw), user_id=user.id, expires_at=expires_at))
    db.flush()
    return raw


def user_of_session(db: Session, user_id: int, token: str) -> User | None:
    """The user of a live session, read on every request: one query, the session row by its
    primary key joined to the user by theirs."""
    return db.scalar(
        sa.select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == hash_token(token), UserSession.user_id == user_id, UserSession.expires_at > utcnow())
    )


def end_session(db: Session, token: str) -> None:
    """Log-out: this browser's session only; the user's other browsers stay signed in."""
    db.execute(sa.delete(UserSession).where(UserSession.id == hash_token(token)))


def end_user_sessions(db: Session, user: User) -> None:
    """Every session of the user (password change or reset)."""
    db.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))


def purge_expired_sessions(db: Session, *, now: datetime | None = None) -> int:
    """Delete sessions past their end; returns how many. They already let no one in."""
    result = db.execute(sa.delete(UserSession).where(UserSession.expires_at <= (now or utcnow())))
    return rows_changed(result)
