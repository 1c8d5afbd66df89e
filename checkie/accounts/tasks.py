"""Account tasks: email a requested password reset, purge ended dashboard sessions."""
from __future__ import annotations

from huey import crontab

from checkie.accounts import browser_sessions, emails
from checkie.accounts.addresses import find_user_by_email
from checkie.extensions import db
from checkie.tasks import periodic_task, task


@task(retries=3, retry_delay=30)
def email_password_reset(address: str) -> None:
    """Email a fresh one-hour reset link if `address` has an account; nothing otherwise. Decided
    here rather than in the request, which must cost the same for every address (SPEC §9).
    Unverified accounts may reset too: using the emailed link proves the address."""
    user = find_user_by_email(db.session, address)
    if user is not None:
        emails.send_password_reset_email(db.session, user)
        db.session.commit()


@periodic_task(crontab(minute="23"))
def purge_user_sessions() -> int:
    """Sessions past their end already let no one in; this only reclaims the space."""
    count = browser_sessions.purge_expired_sessions(db.session)
    db.session.commit()
    return count
