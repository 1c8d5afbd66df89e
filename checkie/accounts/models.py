from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from checkie.database import BigId, UTCDateTime, str_enum, utcnow
from checkie.extensions import Model


def new_session_epoch() -> str:
    return secrets.token_hex(16)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Stored lower-cased and stripped, so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: Registration through the dashboard is finished by opening an emailed link.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Carried by every JSON API access token; rotating it (password change) ends them all.
    session_epoch: Mapped[str] = mapped_column(sa.String(32), default=new_session_epoch)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserSession(Model):
    """One signed-in dashboard browser. The signed cookie alone cannot be taken back, so it
    only carries this row's token: deleting the row (log-out, password change) ends the session
    even for a copy of the cookie."""

    __tablename__ = "user_sessions"

    #: SHA-256 hex of the token in the session cookie; the token itself is never stored.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Fixed at sign-in: the session ends then however active it is (the purge task reclaims the row).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordResetRequest(Model):
    """A forgot-password request waiting for the worker (an outbox row). Every address gets one,
    known or not, so the request costs the same either way; the task decides whether an account
    exists, emails it, and deletes the row. The sweeper re-enqueues rows a lost task left."""

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: In stored form (`addresses.account_email`), whether or not an account has it.
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class TokenPurpose(str, enum.Enum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"


class UserToken(Model):
    """A single-use emailed link (password reset: 1 hour; email verification). Issuing a new one
    for the same purpose invalidates the older ones."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    #: SHA-256 hex of the token in the emailed link; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefreshToken(Model):
    """A JSON API refresh token. Rotated on use: each use revokes it and issues its successor in
    the same family; presenting a revoked token revokes the whole family (theft detection)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    family: Mapped[str] = mapped_column(sa.String(32), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
