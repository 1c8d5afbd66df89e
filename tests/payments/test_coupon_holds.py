"""A payment's coupon redemption is held in a short transaction of its own (catalog.coupons.
hold_redemption), committed before the PSP is called: the coupon's row is free during the call,
the hold is given back when the call fails, and a hold left by a request that died is reused
by the session's next attempt and given back when the session ends unpaid."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import checkie.providers
from checkie.catalog.coupons import hold_redemption
from checkie.catalog.models import Coupon, CouponHold
from checkie.checkout import services
from checkie.payments.initiation import initiate_payment
from checkie.providers.base import ProviderError
from tests.factories import make_coupon, make_page, open_checkout
from tests.psp import FakeProvider


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    monkeypatch.setattr(checkie.providers, "for_store", lambda store: fake)
    return fake


@pytest.fixture
def coupon_checkout(db, store):
    coupon = make_coupon(db, store, code="POPULAR", max_redemptions=1)
    checkout = open_checkout(db, make_page(db, store, publish=True), email="s@example.com", coupon_code="POPULAR")
    db.commit()
    return coupon, checkout


def _count(db, coupon_id: int) -> int:
    return db.scalar(sa.select(Coupon.redemption_count).where(Coupon.id == coupon_id).execution_options(populate_existing=True))


def _holds(db) -> list[tuple[str, int]]:
    return [tuple(row) for row in db.execute(sa.select(CouponHold.checkout_session_id, CouponHold.coupon_id))]


def test_the_coupon_row_is_free_while_the_provider_is_called(app, db, coupon_checkout, provider):
    coupon, checkout = coupon_checkout
    seen: list[tuple[int, int]] = []

    def create_payment_intent(**request):
        # Another checkout's request: it can lock the coupon's row at once (NOWAIT), and it sees
        # the hold already committed.
        with Session(bind=db.get_bind()) as other, other.begin():
            locked = other.execute(
                sa.select(Coupon.redemption_count).where(Coupon.id == coupon.id).with_for_update(nowait=True)
            ).scalar_one()
            seen.append((locked, other.scalar(sa.select(sa.func.count()).select_from(CouponHold))))
        return FakeProvider.create_payment_intent(provider, **request)

    provider.create_payment_intent = create_payment_intent  # type: ignore[method-assign]
    initiate_payment(db, checkout, payment_method="pm_card_visa")
    db.commit()
    assert seen == [(1, 1)]
    assert _count(db, coupon.id) == 1 and _holds(db) == [(checkout.id, coupon.id)]


def test_a_provider_failure_gives_the_hold_back(db, coupon_checkout, provider):
    coupon, checkout = coupon_checkout

    def refuse(**request):
        raise ProviderError("Stripe refused the request: APIConnectionError.")

    provider.create_payment_intent = refuse  # type: ignore[method-assign]
    with pytest.raises(ProviderError):
        initiate_payment(db, checkout, payment_method="pm_card_visa")
    db.rollback()
    assert _count(db, coupon.id) == 0 and _holds(db) == []
    assert checkout.attempt_count == 0 and not checkout.coupon_reserved


def test_a_hold_left_by_a_request_that_died_is_reused_then_given_back(db, coupon_checkout, provider):
    coupon, checkout = coupon_checkout
    assert hold_redemption(db, checkout.id, coupon.id)
    db.rollback()  # the request died after its hold committed: the session never heard of it
    assert _count(db, coupon.id) == 1 and not checkout.coupon_reserved

    provider.statuses = ["requires_action"]
    initiate_payment(db, checkout, payment_method="pm_card_visa")
    db.commit()
    assert _count(db, coupon.id) == 1 and _holds(db) == [(checkout.id, coupon.id)]  # the same hold, not a second

    services.abandon_checkout(db, checkout)
    db.commit()
    assert _count(db, coupon.id) == 0 and _holds(db) == []


@pytest.mark.parametrize("then", [
    pytest.param(lambda db, checkout: services.abandon_checkout(db, checkout), id="the session ends unpaid"),
    pytest.param(lambda db, checkout: services.update_checkout(db, checkout, coupon_code=""), id="the shopper drops the code"),
    pytest.param(lambda db, checkout: services.update_checkout(db, checkout, name="Sam Shopper"),
                 id="the shopper changes anything else"),
])
def test_a_dead_requests_hold_is_given_back_when(db, coupon_checkout, then):
    coupon, checkout = coupon_checkout
    assert hold_redemption(db, checkout.id, coupon.id)
    db.rollback()  # the request died after its hold committed
    then(db, checkout)
    db.commit()
    assert _count(db, coupon.id) == 0 and _holds(db) == []


def test_a_used_up_coupon_holds_nothing(db, store, coupon_checkout, provider):
    coupon, first = coupon_checkout
    second = open_checkout(db, make_page(db, store, slug="other", publish=True), email="b@example.com",
                           coupon_code="POPULAR")
    db.commit()
    provider.statuses = ["requires_action"]
    initiate_payment(db, first, payment_method="pm_card_visa")
    db.commit()
    assert not hold_redemption(db, second.id, coupon.id)
    assert _count(db, coupon.id) == 1 and _holds(db) == [(first.id, coupon.id)]


def test_a_session_that_changed_its_code_moves_its_hold(db, store, coupon_checkout):
    coupon, checkout = coupon_checkout
    other = make_coupon(db, store, code="OTHER")
    db.commit()
    assert hold_redemption(db, checkout.id, coupon.id)
    assert hold_redemption(db, checkout.id, other.id)
    assert (_count(db, coupon.id), _count(db, other.id)) == (0, 1)
    assert _holds(db) == [(checkout.id, other.id)]


def test_a_payment_after_the_code_was_dropped_counts_nothing(db, coupon_checkout, provider):
    coupon, checkout = coupon_checkout
    assert hold_redemption(db, checkout.id, coupon.id)
    db.rollback()
    services.update_checkout(db, checkout, coupon_code="")
    db.commit()
    initiate_payment(db, checkout, payment_method="pm_card_visa")
    db.commit()
    assert _count(db, coupon.id) == 0 and _holds(db) == []


def test_changing_a_session_without_a_coupon_does_not_look_for_a_hold(db, store):
    checkout = open_checkout(db, make_page(db, store, publish=True))
    db.commit()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.get_bind(), "before_cursor_execute", record)
    try:
        services.update_checkout(db, checkout, email="s@example.com")
        db.flush()
    finally:
        sa.event.remove(db.get_bind(), "before_cursor_execute", record)
    assert not [statement for statement in statements if "coupon_holds" in statement]
    assert len([statement for statement in statements if "checkout_session_transitions" in statement]) == 1
