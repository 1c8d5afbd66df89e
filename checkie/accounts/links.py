"""Single-use tokens for emailed links (password reset, email verification).

Only the SHA-256 of a token is stored, so a database leak does not hand out working links.
Each purpose keeps at most one live token per user: issuing a new one retires the older ones,
so only the most recent email's link works.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.accounts.models import TokenPurpose, User, UserToken
from checkie.database import utcnow
from checkie.security import hash_token, new_token

#: How long a link works after it is emailed (SPEC §3: resets expire in 1 hour).
LIFETIMES = {
    TokenPurpose.PASSWORD_RESET: timedelta(hours=1),
    TokenPurpose.EMAIL_VERIFICATION: timedelta(hours=48),
}


def issue_link_token(db: Session, user: User, purpose: TokenPurpose) -> str:
    """A fresh random token for `purpose` (the raw value goes into the email, never the database);
    older unused tokens of the same purpose stop working."""
    retire_link_tokens(db, user, purpose)
    raw = new_token()
    db.add(UserToken(user_id=user.id, purpose=purpose, token_hash=hash_token(raw), expires_at=utcnow() + LIFETIMES[purpose]))
    db.flush()
    return raw


def retire_link_tokens(db: Session, user: User, purpose: TokenPurpose) -> None:
    """Expire every live token of `purpose` now, e.g. when a newer link is sent or the password changed."""
    db.execute(
        sa.update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose == purpose, UserToken.used_at.is_(None))
        .where(UserToken.expires_at > utcnow())
        .values(expires_at=utcnow())
    )


def _live_token(raw: str, purpose: TokenPurpose) -> sa.Select:
    return sa.select(UserToken).where(
        UserToken.token_hash == hash_token(raw),
        UserToken.purpose == purpose,
        UserToken.used_at.is_(None),
        UserToken.expires_at > utcnow(),
    )


def user_for_link(db: Session, raw: str, purpose: TokenPurpose) -> User | None:
    """The user a live link belongs to, without using it up (opening a link only shows a page:
    mail scanners prefetch links, so only the page's POST may consume it)."""
    token = db.scalar(_live_token(raw, purpose))
    return db.get(User, token.user_id) if token else None


def consume_link_token(db: Session, raw: str, purpose: TokenPurpose) -> User | None:
    """Use a live link once and return its user; None if unknown, used, retired or expired.

    The row is locked, so two simultaneous submissions of one link cannot both succeed: the
    second waits, re-checks `used_at` and finds nothing."""
    token = db.scalar(_live_token(raw, purpose).with_for_update())
    if token is None:
        return None
    token.used_at = utcnow()
    return db.get(User, token.user_id)
