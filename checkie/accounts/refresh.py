"""JSON API sign-in state: short-lived JWT access tokens and rotating refresh tokens.

An access token lives JWT_EXPIRATION (15 minutes) and carries the user's session epoch, so a
password change or reset kills it along with every browser session. A refresh token lives
REFRESH_TOKEN_EXPIRATION (7 days), is stored hashed, and is rotated on every use: the used
token is revoked and its successor joins the same family. Presenting a revoked token means two
parties hold the family (one of them a thief), so the whole family is revoked.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from checkie.accounts.models import RefreshToken, User
from checkie.accounts.tokens import create_access_token
from checkie.database import utcnow
from checkie.errors import AuthenticationFailed
from checkie.security import hash_token, new_token

INVALID_REFRESH_TOKEN = "Invalid or expired refresh token. Log in again."


class RefreshTokenReused(AuthenticationFailed):
    """A revoked refresh token came back. Its family is revoked before this is raised; the
    caller must commit before answering, or the revocation is rolled back with the request."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


def issue_token_pair(db: Session, user: User, *, family: str | None = None) -> TokenPair:
    """A new access token and a new refresh token (a new family unless continuing one)."""
    config = current_app.config
    raw = new_token()
    db.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_token(raw),
            family=family or secrets.token_hex(16),
            expires_at=utcnow() + config["REFRESH_TOKEN_EXPIRATION"],
        )
    )
    db.flush()
    access = create_access_token(user.id, user.session_epoch, secret=config["JWT_SECRET"], ttl=config["JWT_EXPIRATION"])
    return TokenPair(access_token=access, refresh_token=raw)


def rotate_refresh_token(db: Session, raw: str) -> tuple[User, TokenPair]:
    """Trade a live refresh token for a new pair in the same family, revoking it.

    Locked with FOR UPDATE, so two concurrent uses of one token are serialised: the second
    sees it revoked and is treated as reuse. Raises AuthenticationFailed for an unknown or
    expired token and RefreshTokenReused (after revoking the family) for a revoked one."""
    token = db.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw)).with_for_update())
    if token is None or token.expires_at <= utcnow():
        raise AuthenticationFailed(INVALID_REFRESH_TOKEN)
    if token.revoked_at is not None:
        _revoke(db, RefreshToken.family == token.family)
        raise RefreshTokenReused(INVALID_REFRESH_TOKEN)
    token.revoked_at = utcnow()
    user = db.get_one(User, token.user_id)
    return user, issue_token_pair(db, user, family=token.family)


def revoke_refresh_token(db: Session, raw: str) -> None:
    """Log out one API client. Unknown or already revoked tokens are ignored: logging out twice is fine."""
    _revoke(db, RefreshToken.token_hash == hash_token(raw))


def revoke_user_refresh_tokens(db: Session, user: User) -> None:
    """Log out every API client of the user (password changed or reset)."""
    _revoke(db, RefreshToken.user_id == user.id)


def _revoke(db: Session, condition) -> None:
    db.execute(
        sa.update(RefreshToken).where(condition, RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
