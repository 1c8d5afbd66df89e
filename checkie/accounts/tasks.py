"""Account tasks: email a requested password reset (and sweep for lost ones), purge ended
dashboard sessions."""
from __future__ import annotations

from datetime import timedelta

from huey import crontab

from checkie.accounts import browser_sessions, reset_requests
from checkie.extensions import db
from checkie.tasks import periodic_task, task

#: A request still waiting this long after it was made lost its task.
LOST_AFTER = timedelta(minutes=1)


@task()
def email_password_reset(request_id: int) -> None:
    """Email a fresh one-hour reset link if the request's address has an account; nothing
    otherwise. Decided here rather than in the request, which must cost the same for every
    address (SPEC §9). Unverified accounts may reset too: using the emailed link proves the address."""
    reset_requests.email_requested_reset(db.session, request_id)
    db.session.commit()


@periodic_task(crontab(minute="*"))
def sweep_password_reset_requests() -> None:
    """Huey drops a task whose consumer dies mid-run, and none is queued while Redis is down; the row is the truth."""
    for request_id in reset_requests.stale_request_ids(db.session, older_than=LOST_AFTER):
        email_password_reset(request_id)


@periodic_task(crontab(minute="23"))
def purge_user_sessions() -> int:
    """Sessions past their end already let no one in; this only reclaims the space."""
    count = browser_sessions.purge_expired_sessions(db.session)
    db.session.commit()
    return count
