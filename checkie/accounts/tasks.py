"""Account tasks: purge ended dashboard sessions."""
from __future__ import annotations

from huey import crontab

from checkie.accounts import browser_sessions
from checkie.extensions import db
from checkie.tasks import periodic_task


@periodic_task(crontab(minute="23"))
def purge_user_sessions() -> int:
    """Sessions past their end already let no one in; this only reclaims the space."""
    count = browser_sessions.purge_expired_sessions(db.session)
    db.session.commit()
    return count
