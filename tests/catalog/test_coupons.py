"""Coupon rules (checkie.catalog.coupons): create, edit, uniqueness, activation, delete."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from checkie.catalog import coupons
from checkie.catalog.models import Coupon, CouponDuration, coupon_pages
from checkie.database import utcnow
from checkie.errors import NotFound, ValidationFailed
from checkie.extensions import db as _db
from checkie.stores.models import Store
from tests.factories import make_coupon, make_page, make_store


def fields_of(excinfo) -> dict:
    return excinfo.value.fields


def test_a_percentage_coupon_keeps_its_code_as_typed(db, store):
    coupon = make_coupon(db, store, code="  Summer-24_x ", percent_off=15)
    db.commit()
    assert (coupon.code, coupon.code_key) == ("Summer-24_x", "SUMMER-24_X")
    assert (coupon.percent_off, coupon.amount_off, coupon.currency) == (15, None, None)
    assert coupon.active and coupon.redemption_count == 0 and coupon.duration is CouponDuration.ONCE
    assert coupon.pages == [] and coupon.max_redemptions is None and coupon.expires_at is None


def test_a_fixed_amount_coupon_with_every_term(db, store):
    page = make_page(db, store)
    expires = utcnow() + timedelta(days=30)
    coupon = make_coupon(
        db, store, code="TENOFF", amount_off=1000, currency="eur", max_redemptions=50, expires_at=expires,
        page_ids=[page.id, page.id], minimum_amount=5000, duration="repeating", duration_months=3,
    )
    db.commit()
    assert (coupon.amount_off, coupon.currency, coupon.percent_off) == (1000, "EUR", None)
    assert (coupon.max_redemptions, coupon.expires_at, coupon.minimum_amount) == (50, expires, 5000)
    assert coupon.pages == [page] and (coupon.duration, coupon.duration_months) == (CouponDuration.REPEATING, 3)


def test_a_naive_expiry_is_read_as_utc(db, store):
    naive = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) + timedelta(days=1)
    coupon = make_coupon(db, store, expires_at=naive)
    assert coupon.expires_at == naive.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"code": "AB"}, "code"),
        ({"code": "X" * 51}, "code"),
        ({"code": "SAVE 10"}, "code"),
        ({"code": "SÄVE10"}, "code"),
        ({"code": "SAVE\x0010"}, "code"),
        ({"percent_off": 0}, "percent_off"),
        ({"percent_off": 101}, "percent_off"),
        ({"percent_off": True}, "percent_off"),
        ({"percent_off": None, "amount_off": 0, "currency": "USD"}, "amount_off"),
        ({"percent_off": None, "amount_off": 10**13, "currency": "USD"}, "amount_off"),
        ({"percent_off": None, "amount_off": 100}, "currency"),
        ({"percent_off": None, "amount_off": 100, "currency": "XXX"}, "currency"),
        ({"minimum_amount": 1000}, "currency"),
        ({"minimum_amount": -1, "currency": "USD"}, "minimum_amount"),
        ({"max_redemptions": 0}, "max_redemptions"),
        ({"max_redemptions": 2**31}, "max_redemptions"),
        ({"expires_at": datetime(2020, 1, 1, tzinfo=timezone.utc)}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"duration": "weekly"}, "duration"),
        ({"duration": "repeating"}, "duration_months"),
        ({"duration": "repeating", "duration_months": 37}, "duration_months"),
        ({"duration": "once", "duration_months": 3}, "duration_months"),
        ({"page_ids": [2**63]}, "page_ids"),
        ({"page_ids": list(range(1, 102))}, "page_ids"),
    ],
)
def test_rules_are_refused_on_the_field_that_breaks_them(db, store, terms, field):
    terms = {"code": "SAVE10", "percent_off": 10, **terms}
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.create_coupon(db, store, **terms)
    assert field in fields_of(excinfo)
    assert db.scalar(sa.select(sa.func.count(Coupon.id))) == 0


def test_exactly_one_kind_of_discount(db, store):
    with pytest.raises(ValidationFailed) as neither:
        coupons.create_coupon(db, store, code="NONE")
    with pytest.raises(ValidationFailed) as both:
        coupons.create_coupon(db, store, code="BOTH", percent_off=10, amount_off=100, currency="USD")
    for excinfo in (neither, both):
        assert set(fields_of(excinfo)) == {"percent_off", "amount_off"}


def test_every_broken_rule_is_reported_at_once(db, store):
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.create_coupon(db, store, code="x", percent_off=500, max_redemptions=-3, duration="repeating")
    assert set(fields_of(excinfo)) == {"code", "percent_off", "max_redemptions", "duration_months"}


def test_pages_must_belong_to_the_store(db, store):
    other_page = make_page(db, make_store(db, name="Other"))
    with pytest.raises(ValidationFailed) as excinfo:
        make_coupon(db, store, page_ids=[other_page.id])
    assert "page_ids" in fields_of(excinfo)


def test_codes_are_unique_per_store_regardless_of_case(db, store):
    make_coupon(db, store, code="Summer")
    db.commit()
    for taken in ("SUMMER", "summer", " sUmMeR "):
        with pytest.raises(ValidationFailed) as excinfo:
            make_coupon(db, store, code=taken)
        assert "code" in fields_of(excinfo)
    other = make_store(db, name="Other")
    assert make_coupon(db, other, code="SUMMER").code_key == "SUMMER"  # another store may use it
    db.commit()
    assert db.scalar(sa.select(sa.func.count(Coupon.id))) == 2


def _waiting_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )))


def test_a_duplicate_code_racing_past_the_check_is_still_a_validation_error(app, db, store):
    """The first transaction has inserted SUMMER but not committed; the second one's check sees
    nothing, its INSERT waits on the unique index, and the commit makes it fail there: the
    savepoint turns that into a ValidationFailed on `code`, not a 500."""
    make_coupon(db, store, code="SUMMER")  # flushed, not committed
    outcome: dict = {}

    def second_request():
        with app.app_context():
            session = _db.session
            try:
                coupons.create_coupon(session, session.get(Store, store.id), code="summer", percent_off=5)
                session.commit()
                outcome["created"] = True
            except ValidationFailed as error:
                session.rollback()
                outcome["error"] = error
            finally:
                session.remove()

    thread = threading.Thread(target=second_request)
    thread.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock(_db.engine) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_on_a_lock(_db.engine), "the second insert never waited on the first"
    db.commit()
    thread.join(timeout=20)
    assert "created" not in outcome
    assert list(outcome["error"].fields) == ["code"] and "already exists" in outcome["error"].fields["code"][0]
    assert db.scalars(sa.select(Coupon.code)).all() == ["SUMMER"]


def test_get_coupon_is_scoped_by_store(db, store):
    coupon = make_coupon(db, store)
    other = make_store(db, name="Other")
    assert coupons.get_coupon(db, store, coupon.id) is coupon
    for store_, coupon_id in ((other, coupon.id), (store, coupon.id + 1), (store, 2**63), (store, 0)):
        with pytest.raises(NotFound):
            coupons.get_coupon(db, store_, coupon_id)


def test_find_coupon_ignores_case_and_refuses_impossible_codes(db, store):
    coupon = make_coupon(db, store, code="Summer")
    assert coupons.find_coupon(db, store, "sUMMER") is coupon
    assert coupons.find_coupon(db, store, "WINTER") is None
    assert coupons.find_coupon(db, store, "SUM\x00MER") is None


def test_update_changes_only_what_it_is_given(db, store):
    page = make_page(db, store)
    coupon = make_coupon(db, store, code="SAVE10", percent_off=10, max_redemptions=5, page_ids=[page.id])
    coupons.update_coupon(db, coupon, {"code": "save10", "max_redemptions": None})
    db.commit()
    assert (coupon.code, coupon.code_key, coupon.max_redemptions) == ("save10", "SAVE10", None)
    assert coupon.percent_off == 10 and coupon.pages == [page]
    coupons.update_coupon(db, coupon, {"page_ids": []})
    assert coupon.pages == []


def test_update_switches_the_kind_of_discount(db, store):
    coupon = make_coupon(db, store, percent_off=10)
    coupons.update_coupon(db, coupon, {"amount_off": 500, "currency": "USD"})
    assert (coupon.percent_off, coupon.amount_off, coupon.currency) == (None, 500, "USD")
    coupons.update_coupon(db, coupon, {"percent_off": 20, "currency": None})
    assert (coupon.percent_off, coupon.amount_off, coupon.currency) == (20, None, None)
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.update_coupon(db, coupon, {"amount_off": 300})
    assert set(fields_of(excinfo)) == {"currency"}
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.update_coupon(db, coupon, {"percent_off": 5, "amount_off": 300, "currency": "USD"})
    assert set(fields_of(excinfo)) == {"percent_off", "amount_off"}


def test_update_refuses_another_coupons_code_and_keeps_the_old_values(db, store):
    make_coupon(db, store, code="TAKEN")
    coupon = make_coupon(db, store, code="MINE")
    db.commit()
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.update_coupon(db, coupon, {"code": "taken", "percent_off": 99})
    assert "code" in fields_of(excinfo)
    db.rollback()
    assert (coupon.code, coupon.percent_off) == ("MINE", 10)


def test_leaving_repeating_drops_the_months(db, store):
    coupon = make_coupon(db, store, duration="repeating", duration_months=6)
    coupons.update_coupon(db, coupon, {"duration": "forever"})
    assert (coupon.duration, coupon.duration_months) == (CouponDuration.FOREVER, None)


def test_the_limit_cannot_drop_below_what_was_redeemed(db, store):
    coupon = make_coupon(db, store, max_redemptions=5)
    db.commit()
    for _ in range(3):
        assert coupons.reserve_redemption(db, coupon.id)
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.update_coupon(db, coupon, {"max_redemptions": 2})
    assert "max_redemptions" in fields_of(excinfo)
    coupons.update_coupon(db, coupon, {"max_redemptions": 3})
    assert coupon.max_redemptions == 3


def test_an_unchanged_past_expiry_may_stay_but_a_new_one_must_be_future(db, store):
    coupon = make_coupon(db, store, expires_at=utcnow() + timedelta(days=1))
    db.commit()
    past = utcnow() - timedelta(days=1)
    db.execute(sa.update(Coupon).where(Coupon.id == coupon.id).values(expires_at=past))
    db.expire(coupon)
    coupons.update_coupon(db, coupon, {"percent_off": 20, "expires_at": coupon.expires_at})
    with pytest.raises(ValidationFailed) as excinfo:
        coupons.update_coupon(db, coupon, {"expires_at": past - timedelta(hours=1)})
    assert "expires_at" in fields_of(excinfo)


def test_deactivate_activate_and_status(db, store):
    coupon = make_coupon(db, store, max_redemptions=1)
    assert coupons.coupon_status(coupon) == "active"
    coupons.deactivate_coupon(db, coupon)
    assert not coupon.active and coupons.coupon_status(coupon) == "inactive"
    coupons.activate_coupon(db, coupon)
    assert coupons.reserve_redemption(db, coupon.id)
    assert coupons.coupon_status(coupon) == "exhausted"
    assert coupons.coupon_status(coupon, now=utcnow() + timedelta(days=1)) == "exhausted"
    coupons.update_coupon(db, coupon, {"expires_at": utcnow() + timedelta(minutes=5), "max_redemptions": None})
    assert coupons.coupon_status(coupon, now=utcnow() + timedelta(days=1)) == "expired"


def test_delete_removes_the_coupon_and_its_page_links(db, store):
    page = make_page(db, store)
    coupon = make_coupon(db, store, page_ids=[page.id])
    db.commit()
    coupons.delete_coupon(db, coupon)
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(coupon_pages)) == 0
    assert db.get(type(page), page.id) is not None


def test_list_coupons_pages_newest_first_and_filters(db, store):
    made = [make_coupon(db, store, code=f"CODE{i}") for i in range(5)]
    coupons.deactivate_coupon(db, made[0])
    first, more = coupons.list_coupons(db, store, limit=2)
    assert [c.code for c in first] == ["CODE4", "CODE3"] and more
    rest, more = coupons.list_coupons(db, store, limit=10, before_id=first[-1].id)
    assert [c.code for c in rest] == ["CODE2", "CODE1", "CODE0"] and not more
    assert [c.code for c in coupons.list_coupons(db, store, active=False)[0]] == ["CODE0"]
    assert len(coupons.list_coupons(db, store, active=True)[0]) == 4
    assert coupons.list_coupons(db, make_store(db, name="Other"))[0] == []
