"""Checkout tasks: expire sessions past their expiry, purge old idempotency keys."""
from __future__ import annotations

from huey import crontab

from checkie.checkout import idempotency, services
from checkie.extensions import db
from checkie.tasks import periodic_task

EXPIRY_BATCH = 200


@periodic_task(crontab(minute="*"))
def expire_checkouts() -> int:
    """TIMEOUT every unfinished session past its expiry, committing batch by batch so row
    locks are held briefly; another consumer running at once skips the rows we hold."""
    total = 0
    while True:
        count = services.expire_due_batch(db.session, limit=EXPIRY_BATCH)
        db.session.commit()
        total += count
        if count < EXPIRY_BATCH:
            return total


@periodic_task(crontab(minute="17"))
def purge_idempotency_keys() -> int:
    """Keys live 24 hours; expired ones are already ignored, this only reclaims the space."""
    count = idempotency.purge_expired_keys(db.session)
    db.session.commit()
    return count
