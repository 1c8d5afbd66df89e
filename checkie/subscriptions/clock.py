"""Each store's clock (SPEC §5, the test clock): the wall clock, plus however far the store's
test clock was advanced. Subscription services read time only through `now`, so advancing a
test-mode store's clock moves its trials, renewals and dunning retries, and nothing else."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.database import dialect_insert, utcnow
from checkie.errors import Conflict
from checkie.subscriptions.models import TestClock


class TestModeOnly(Conflict):
    """The test clock moves only a store whose payments go through the test provider."""

    __test__ = False
    code = "test_mode_only"


def offset(db: Session, store_id: int) -> timedelta:
    seconds = db.scalar(sa.select(TestClock.offset_seconds).where(TestClock.store_id == store_id))
    return timedelta(seconds=seconds or 0)


def now(db: Session, store_id: int) -> datetime:
    """The store's present: the wall clock, moved forward by its test clock."""
    return utcnow() + offset(db, store_id)


def advance(db: Session, store_id: int, by: timedelta) -> datetime:
    """Move the store's clock forward by `by` (under its row's lock, so two advances add up)
    and return its new present."""
    db.execute(
        dialect_insert(db)(TestClock).values(store_id=store_id, offset_seconds=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["store_id"])
    )
    clock = db.scalars(
        sa.select(TestClock).where(TestClock.store_id == store_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    clock.offset_seconds = (clock.offset_seconds or 0) + int(by.total_seconds())
    db.flush()
    return utcnow() + timedelta(seconds=clock.offset_seconds)


def offsets(db: Session) -> dict[int, timedelta]:
    """Every store whose clock runs ahead, and by how much (few: test-mode stores that advanced)."""
    rows = db.execute(sa.select(TestClock.store_id, TestClock.offset_seconds).where(TestClock.offset_seconds != 0))
    return {store_id: timedelta(seconds=seconds) for store_id, seconds in rows}
