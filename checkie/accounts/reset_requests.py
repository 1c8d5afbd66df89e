"""Forgot-password requests as outbox rows (SPEC §8, §9).

The request writes one row for every address, known or not, so it costs the same either way;
the worker looks the account up. A row outlives a lost task (a worker killed, Redis down): the
sweeper finds it and sends it again, so an asked-for link is never silently dropped.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.accounts import emails
from checkie.accounts.addresses import find_user_by_email
from checkie.accounts.models import PasswordResetRequest
from checkie.database import utcnow


def record_request(db: Session, address: str) -> PasswordResetRequest:
    """A pending request for `address` (in stored form); the caller commits and enqueues it."""
    request = PasswordResetRequest(email=address)
    db.add(request)
    db.flush()
    return request


def email_requested_reset(db: Session, request_id: int) -> None:
    """Take one pending request (SKIP LOCKED: two workers never both take it), email its address
    a one-hour link if it has an account, and delete the request; the caller commits."""
    request = db.scalar(
        sa.select(PasswordResetRequest).where(PasswordResetRequest.id == request_id).with_for_update(skip_locked=True)
    )
    if request is None:
        return
    user = find_user_by_email(db, request.email)
    if user is not None:
        emails.send_password_reset_email(db, user)
    db.delete(request)


def stale_request_ids(db: Session, *, older_than: timedelta, limit: int = 500) -> list[int]:
    """Requests still waiting `older_than` after they were made: their task was lost."""
    stmt = sa.select(PasswordResetRequest.id).where(PasswordResetRequest.created_at <= utcnow() - older_than)
    return list(db.scalars(stmt.order_by(PasswordResetRequest.id).limit(limit)))
