"""evaluate_coupon: every reason a code is refused, the order of the checks, and the discount."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.catalog.coupons import (
    CouponReason,
    deactivate_coupon,
    evaluate_coupon,
    reserve_redemption,
)
from checkie.catalog.models import Coupon
from checkie.database import utcnow
from tests.factories import make_coupon, make_page, make_store


@pytest.fixture
def page(db, store):
    return make_page(db, store, amount=2500)


def evaluate(db, store, code, page, subtotal=2500, **kwargs):
    return evaluate_coupon(db, store, code, page=page, subtotal=subtotal, currency=page.currency, **kwargs)


def test_a_valid_percentage_code(db, store, page):
    coupon = make_coupon(db, store, code="Save15", percent_off=15)
    result = evaluate(db, store, "SAVE15", page, subtotal=999)
    assert result.valid and result.reason is None and result.coupon is coupon
    assert (result.discount, result.total, result.currency) == (150, 849, "USD")


def test_a_valid_fixed_amount_larger_than_the_price_makes_it_free(db, store, page):
    make_coupon(db, store, code="BIG", amount_off=10_000, currency="USD")
    result = evaluate(db, store, "big", page)
    assert result.valid and (result.discount, result.total) == (2500, 0)


def test_not_found(db, store, page):
    make_coupon(db, store, code="SAVE10")
    make_coupon(db, make_store(db, name="Other"), code="OTHER10")
    for code in ("NOPE", "OTHER10", "", "x", "SAVE\x0010", "S" * 500):
        result = evaluate(db, store, code, page)
        assert (result.valid, result.reason, result.coupon) == (False, CouponReason.NOT_FOUND, None)
        assert (result.discount, result.total) == (0, 2500)


def test_inactive(db, store, page):
    deactivate_coupon(db, make_coupon(db, store, code="SAVE10"))
    assert evaluate(db, store, "SAVE10", page).reason is CouponReason.INACTIVE


def test_expired_at_the_expiry_instant(db, store, page):
    expires = utcnow() + timedelta(days=1)
    make_coupon(db, store, code="SAVE10", expires_at=expires)
    assert evaluate(db, store, "SAVE10", page, now=expires - timedelta(seconds=1)).valid
    assert evaluate(db, store, "SAVE10", page, now=expires).reason is CouponReason.EXPIRED


def test_exhausted(db, store, page):
    coupon = make_coupon(db, store, code="SAVE10", max_redemptions=2)
    assert reserve_redemption(db, coupon.id)
    assert evaluate(db, store, "SAVE10", page).valid
    assert reserve_redemption(db, coupon.id)
    assert evaluate(db, store, "SAVE10", page).reason is CouponReason.EXHAUSTED


def test_not_applicable_to_another_page(db, store, page):
    other_page = make_page(db, store, title="Mug")
    make_coupon(db, store, code="MUGS", page_ids=[other_page.id])
    assert evaluate(db, store, "MUGS", page).reason is CouponReason.NOT_APPLICABLE
    assert evaluate(db, store, "MUGS", other_page).valid


def test_not_applicable_in_another_currency(db, store, page):
    euro_page = make_page(db, store, currency="EUR")
    make_coupon(db, store, code="FIVE", amount_off=500, currency="USD")
    make_coupon(db, store, code="PCT", percent_off=10)
    assert evaluate(db, store, "FIVE", euro_page).reason is CouponReason.NOT_APPLICABLE
    assert evaluate(db, store, "FIVE", page).valid
    assert evaluate(db, store, "PCT", euro_page).valid  # a percentage without a currency works in any


def test_a_page_that_takes_no_coupons_refuses_every_code_alike(db, store):
    no_coupons = make_page(db, store, allow_coupons=False)
    make_coupon(db, store, code="SAVE10")
    assert evaluate(db, store, "SAVE10", no_coupons).reason is CouponReason.NOT_APPLICABLE
    assert evaluate(db, store, "UNKNOWN", no_coupons).reason is CouponReason.NOT_APPLICABLE


def test_a_page_of_another_store_is_not_applicable(db, store):
    foreign_page = make_page(db, make_store(db, name="Other"))
    make_coupon(db, store, code="SAVE10")
    assert evaluate(db, store, "SAVE10", foreign_page).reason is CouponReason.NOT_APPLICABLE


def test_below_minimum_and_exactly_the_minimum(db, store, page):
    make_coupon(db, store, code="MIN", percent_off=10, minimum_amount=2000, currency="USD")
    assert evaluate(db, store, "MIN", page, subtotal=1999).reason is CouponReason.BELOW_MINIMUM
    result = evaluate(db, store, "MIN", page, subtotal=2000)
    assert result.valid and result.discount == 200


def test_the_checks_run_in_the_documented_order(db, store, page):
    """inactive → expired → exhausted → not_applicable → below_minimum: the first failing wins."""
    other_page = make_page(db, store, title="Mug")
    expires = utcnow() + timedelta(days=1)
    coupon = make_coupon(
        db, store, code="ALL", max_redemptions=1, expires_at=expires, page_ids=[other_page.id],
        minimum_amount=10**6, currency="USD",
    )
    reserve_redemption(db, coupon.id)
    later = expires + timedelta(seconds=1)
    deactivate_coupon(db, coupon)
    assert evaluate(db, store, "ALL", page, now=later).reason is CouponReason.INACTIVE
    coupon.active = True
    assert evaluate(db, store, "ALL", page, now=later).reason is CouponReason.EXPIRED
    assert evaluate(db, store, "ALL", page).reason is CouponReason.EXHAUSTED
    db.execute(sa.update(Coupon).where(Coupon.id == coupon.id).values(max_redemptions=None))
    db.expire(coupon)
    assert evaluate(db, store, "ALL", page).reason is CouponReason.NOT_APPLICABLE
    assert evaluate(db, store, "ALL", other_page).reason is CouponReason.BELOW_MINIMUM
    assert evaluate(db, store, "ALL", other_page, subtotal=10**6).valid


def test_the_reasons_are_the_widget_vocabulary():
    assert {reason.value for reason in CouponReason} == {
        "not_found", "expired", "inactive", "exhausted", "not_applicable", "below_minimum",
    }
