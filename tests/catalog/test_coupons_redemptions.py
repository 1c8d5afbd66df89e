"""reserve_redemption / release_redemption: one conditional UPDATE each, so max_redemptions
holds under concurrent checkouts (real PostgreSQL, one session and transaction per thread)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from checkie.catalog.coupons import (
    deactivate_coupon,
    release_redemption,
    reserve_redemption,
)
from checkie.catalog.models import Coupon
from checkie.database import utcnow
from tests.concurrency import run_concurrently
from tests.factories import make_coupon


def count_of(db, coupon) -> int:
    return db.scalar(sa.select(Coupon.redemption_count).where(Coupon.id == coupon.id))


def test_reserve_counts_up_to_the_limit_and_release_gives_back(db, store):
    coupon = make_coupon(db, store, max_redemptions=2)
    db.commit()
    assert [reserve_redemption(db, coupon.id) for _ in range(3)] == [True, True, False]
    assert coupon.redemption_count == 2  # a loaded coupon re-reads its counter
    assert release_redemption(db, coupon.id)
    assert count_of(db, coupon) == 1
    assert reserve_redemption(db, coupon.id)
    assert count_of(db, coupon) == 2


def test_release_never_goes_below_zero(db, store):
    coupon = make_coupon(db, store)
    assert not release_redemption(db, coupon.id)
    assert reserve_redemption(db, coupon.id) and release_redemption(db, coupon.id)
    assert not release_redemption(db, coupon.id)
    assert count_of(db, coupon) == 0


def test_without_a_limit_every_reservation_counts(db, store):
    coupon = make_coupon(db, store)
    assert all(reserve_redemption(db, coupon.id) for _ in range(25))
    assert count_of(db, coupon) == 25


def test_inactive_or_expired_coupons_are_not_reserved(db, store):
    inactive = make_coupon(db, store, code="OFF")
    deactivate_coupon(db, inactive)
    expiring = make_coupon(db, store, code="SOON", expires_at=utcnow() + timedelta(hours=1))
    assert not reserve_redemption(db, inactive.id)
    assert not reserve_redemption(db, expiring.id, now=utcnow() + timedelta(hours=2))
    assert reserve_redemption(db, expiring.id)
    assert (count_of(db, inactive), count_of(db, expiring)) == (0, 1)


def test_unknown_or_impossible_ids_reserve_nothing(db, store):
    assert not reserve_redemption(db, 424242)
    assert not reserve_redemption(db, 2**63)
    assert not release_redemption(db, 0)


def test_twenty_concurrent_reservations_of_a_five_use_coupon(app, db, store):
    coupon_id = make_coupon(db, store, max_redemptions=5).id
    db.commit()  # (threads must not touch the test's own objects: read the id before)
    results = run_concurrently(app, 20, lambda session, _: reserve_redemption(session, coupon_id))
    assert results.count(True) == 5 and results.count(False) == 15
    assert db.get(Coupon, coupon_id).redemption_count == 5


def test_concurrent_releases_stop_at_zero(app, db, store):
    coupon_id = make_coupon(db, store).id
    for _ in range(3):
        reserve_redemption(db, coupon_id)
    db.commit()
    results = run_concurrently(app, 10, lambda session, _: release_redemption(session, coupon_id))
    assert results.count(True) == 3
    assert db.get(Coupon, coupon_id).redemption_count == 0
