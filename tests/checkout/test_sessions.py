"""Opening, reading and updating checkout sessions; amounts with variants and coupons."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.catalog.models import Coupon, PageStats
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.errors import NotFound, ValidationFailed
from checkie.payments.initiation import initiate_payment
from tests.factories import force_state, make_coupon, make_field, make_page, open_checkout

SIZES = {"S": 0, "M": 300, "XL": 700}


def _fields(excinfo) -> dict:
    return excinfo.value.fields


def test_open_session_preselects_first_options_and_counts(app, db, store):
    page = make_page(db, store, amount=2000, variants={"Size": {"M": 300, "S": 0}}, publish=True)
    session = open_checkout(db, page)
    variant = page.variants[0]
    assert session.id.startswith("cs_") and len(session.id) == 35
    assert session.state is CheckoutState.OPEN and session.currency == "USD"
    assert session.variant_options == {str(variant.id): variant.options[0].id}
    assert (session.subtotal, session.discount, session.total) == (2300, 0, 2300)
    ttl = app.config["CHECKOUT_SESSION_TTL"]
    assert abs((session.expires_at - utcnow()) - ttl) < timedelta(seconds=5)
    stats = db.get(PageStats, page.id)
    db.refresh(stats)
    assert (stats.views, stats.sessions) == (1, 1)
    assert session.transitions == []


def test_open_session_refuses_unpublished_pages(db, store):
    page = make_page(db, store)
    with pytest.raises(NotFound):
        services.open_checkout(db, page, client_info={})


def test_get_session(db, store):
    session = open_checkout(db, make_page(db, store, publish=True))
    db.commit()
    assert services.get_checkout(db, session.id) is session
    assert services.lock_checkout_by_id(db, session.id) is session
    for bad in ["cs_missing", "nope", "cs_" + "x" * 80, 12]:
        with pytest.raises(NotFound):
            services.get_checkout(db, bad)
        with pytest.raises(NotFound):
            services.lock_checkout_by_id(db, bad)


def test_update_contact_fields(db, store):
    session = open_checkout(db, make_page(db, store, publish=True))
    services.update_checkout(db, session, email="  Shopper@Example.COM ", name="  Sam  ")
    assert (session.email, session.name) == ("Shopper@example.com", "Sam")
    assert [t.event for t in session.transitions] == ["UPDATE_SESSION"]
    assert session.transitions[0].detail == {"changed": ["email", "name"]}
    services.update_checkout(db, session, email="", name=None)
    assert (session.email, session.name) == (None, None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@" + "b" * 260 + ".com"}, "email"),
    ({"email": 42}, "email"),
    ({"email": 0}, "email"),
    ({"email": []}, "email"),
    ({"name": "x" * 201}, "name"),
    ({"name": False}, "name"),
    ({"name": {}}, "name"),
    ({"variant_options": {}}, "variant_options"),
    ({"variant_options": "M"}, "variant_options"),
    ({"custom_fields": {"nope": "x"}}, "custom_fields.nope"),
    ({"custom_fields": {"notes": 5}}, "custom_fields.notes"),
    ({"coupon_code": "NOSUCH"}, "coupon_code"),
])
def test_update_validation_errors_change_nothing(db, store, changes, field):
    page = make_page(db, store, variants={"Size": SIZES}, publish=True)
    make_field(db, page, label="Notes", key="notes")
    session = open_checkout(db, page, email="keep@example.com")
    db.commit()
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, **changes)
    assert field in _fields(excinfo)
    db.rollback()
    assert session.email == "keep@example.com" and len(session.transitions) == 1


def test_update_reports_every_bad_field_at_once(db, store):
    session = open_checkout(db, make_page(db, store, publish=True))
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, email="bad", name="y" * 300, custom_fields={"zzz": 1})
    assert set(_fields(excinfo)) == {"email", "name", "custom_fields.zzz"}


def test_variant_options_must_name_every_variant_and_its_own_options(db, store):
    page = make_page(db, store, amount=2000, variants={"Size": SIZES}, publish=True)
    other = make_page(db, store, variants={"Size": {"A": 0}}, publish=True)
    session = open_checkout(db, page)
    variant = page.variants[0]
    xl = variant.options[2]
    foreign = other.variants[0]
    for bad in [{str(variant.id): foreign.options[0].id}, {str(foreign.id): foreign.options[0].id},
                {str(variant.id): xl.id, str(foreign.id): foreign.options[0].id}, {str(variant.id): "x"},
                {str(variant.id): True}]:
        with pytest.raises(ValidationFailed) as excinfo:
            services.update_checkout(db, session, variant_options=bad)
        assert list(_fields(excinfo)) == ["variant_options"]
    services.update_checkout(db, session, variant_options={variant.id: str(xl.id)})
    assert session.variant_options == {str(variant.id): xl.id}
    assert (session.subtotal, session.total) == (2700, 2700)


def test_custom_fields_merge_and_blank_removes(db, store):
    page = make_page(db, store, publish=True)
    make_field(db, page, label="Company", key="company", required=True)
    make_field(db, page, label="Notes", key="notes")
    session = open_checkout(db, page)
    services.update_checkout(db, session, custom_fields={"company": " Acme "})
    services.update_checkout(db, session, custom_fields={"notes": "gift"})
    assert session.custom_fields == {"company": "Acme", "notes": "gift"}
    services.update_checkout(db, session, custom_fields={"company": ""})  # partial: still typing
    assert session.custom_fields == {"notes": "gift"}


def test_update_refused_when_not_open(db, store):
    session = open_checkout(db, make_page(db, store, publish=True))
    for state in (CheckoutState.PROCESSING, CheckoutState.AWAITING_ACTION, CheckoutState.COMPLETED,
                  CheckoutState.EXPIRED, CheckoutState.ABANDONED):
        force_state(db, session, state)
        with pytest.raises(services.InvalidTransition):
            services.update_checkout(db, session, email="bad")  # refused before validation


# ---------------------------------------------------------------- amounts and coupons


def test_amounts_with_variants_and_percent_coupon(db, store):
    page = make_page(db, store, amount=999, variants={"Size": {"S": 0, "L": 1}}, publish=True)
    make_coupon(db, store, code="SAVE15", percent_off=15)
    session = open_checkout(db, page)
    services.update_checkout(db, session, coupon_code="save15")  # any letter case
    assert (session.subtotal, session.discount, session.total) == (999, 150, 849)  # 149.85 → 150
    variant = page.variants[0]
    services.update_checkout(db, session, variant_options={str(variant.id): variant.options[1].id})
    assert (session.subtotal, session.discount, session.total) == (1000, 150, 850)
    services.update_checkout(db, session, coupon_code="")
    assert (session.coupon_id, session.subtotal, session.discount, session.total) == (None, 1000, 0, 1000)


def test_amount_off_coupon_never_below_zero(db, store):
    page = make_page(db, store, amount=500, publish=True)
    coupon = make_coupon(db, store, code="BIG", amount_off=10_000)
    session = open_checkout(db, page, coupon_code="BIG")
    assert session.coupon_id == coupon.id
    assert (session.subtotal, session.discount, session.total) == (500, 500, 0)


@pytest.mark.parametrize(("terms", "reason"), [
    ({"max_redemptions": 1}, "exhausted"),
    ({"minimum_amount": 5000, "currency": "USD"}, "below_minimum"),
    ({"currency": "EUR", "amount_off": 100}, "not_applicable"),
])
def test_coupon_refusals_name_the_reason(db, store, terms, reason):
    page = make_page(db, store, amount=2000, publish=True)
    coupon = make_coupon(db, store, code="CODE1", **terms)
    if reason == "exhausted":
        coupon.redemption_count = 1
        db.flush()
    session = open_checkout(db, page)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, coupon_code="CODE1")
    assert list(_fields(excinfo)) == ["coupon_code"]
    assert excinfo.value.reason == reason
    assert session.coupon_id is None


def test_expired_and_inactive_coupons(db, store):
    page = make_page(db, store, publish=True)
    coupon = make_coupon(db, store, code="LATE", expires_at=utcnow() + timedelta(days=1))
    make_coupon(db, store, code="OFF").active = False
    db.execute(sa.update(Coupon).where(Coupon.id == coupon.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.expire(coupon)
    session = open_checkout(db, page)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, coupon_code="LATE")
    assert excinfo.value.reason == "expired" and "expired" in _fields(excinfo)["coupon_code"][0]
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, coupon_code="OFF")
    assert excinfo.value.reason == "inactive"


def test_page_without_coupons_refuses_codes(db, store):
    page = make_page(db, store, allow_coupons=False, publish=True)
    make_coupon(db, store, code="SAVE10")
    session = open_checkout(db, page)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, coupon_code="SAVE10")
    assert excinfo.value.reason == "not_applicable"


def test_option_change_that_breaks_the_coupon_minimum_is_saved_and_drops_the_coupon(db, store):
    """Issue 10, item 2: the change the shopper made wins; the coupon goes, and the change says why."""
    page = make_page(db, store, amount=1000, variants={"Size": {"L": 500, "S": 0}}, publish=True)
    coupon = make_coupon(db, store, code="MIN15", percent_off=10, minimum_amount=1500, currency="USD")
    session = open_checkout(db, page, coupon_code="MIN15")
    assert session.total == 1350
    variant = page.variants[0]
    change = services.change_checkout(db, session, variant_options={str(variant.id): variant.options[1].id})
    assert change.removed_coupon.message == "Coupon MIN15 was removed: this order is below its $15.00 minimum."
    assert (session.coupon_id, session.subtotal, session.discount, session.total) == (None, 1000, 0, 1000)
    assert session.variant_options == {str(variant.id): variant.options[1].id}
    assert coupon.redemption_count == 0  # nothing was reserved, nothing released
    last = session.transitions[-1]
    assert last.detail == {"changed": ["coupon_id", "variant_options"],
                           "couponRemoved": {"code": "MIN15", "reason": "below_minimum"}}
    # Typed now, the same code is refused as before, and nothing changes.
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_checkout(db, session, coupon_code="MIN15")
    assert list(_fields(excinfo)) == ["coupon_code"]
    # A change the coupon still fits keeps it.
    services.update_checkout(db, session, variant_options={str(variant.id): variant.options[0].id}, coupon_code="MIN15")
    assert services.change_checkout(db, session, name="Ada").removed_coupon is None and session.total == 1350


def test_abandon(db, store):
    session = open_checkout(db, make_page(db, store, publish=True))
    assert services.abandon_checkout(db, session) is CheckoutState.ABANDONED
    with pytest.raises(services.InvalidTransition):
        services.abandon_checkout(db, session)
    assert db.get(CheckoutSession, session.id).state is CheckoutState.ABANDONED


def test_a_session_past_its_expiry_refuses_changes_and_payment_before_the_task_runs(db, store):
    session = open_checkout(db, make_page(db, store, publish=True))
    services.update_checkout(db, session, email="ada@example.com")
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    with pytest.raises(services.InvalidTransition, match="expired"):
        services.update_checkout(db, session, email="bob@example.com")
    with pytest.raises(services.InvalidTransition, match="expired"):
        initiate_payment(db, session, payment_method="pm_card_visa")
    db.rollback()
    refused = db.get(CheckoutSession, session.id)
    assert (refused.email, refused.attempt_count, refused.state) == ("ada@example.com", 0, CheckoutState.OPEN)


def test_session_and_page_reads_one_row_once_the_page_view_is_cached(app, db, store):
    page = make_page(db, store, variants={"Size": {"S": 0, "L": 500}}, publish=True)
    make_field(db, page, label="Notes", key="notes")
    session_id, store_name = open_checkout(db, page).id, store.name
    db.commit()
    db.expunge_all()
    services.checkout_and_page(db, session_id)  # the first read of this page's version caches its view
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        db.expunge_all()
        loaded, page = services.checkout_and_page(db, session_id)
        rendered = (page.store.name, [o.name for v in page.variants for o in v.options], [f.key for f in page.custom_fields])
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert loaded.id == session_id and page.id == loaded.page_id
    assert rendered == (store_name, ["S", "L"], ["notes"])
    assert len(statements) == 1, statements


def test_session_and_page_refuses_what_is_not_a_session(db):
    for session_id in ("cs_unknown", "nope", "cs_" + "x" * 80, None):
        with pytest.raises(NotFound):
            services.checkout_and_page(db, session_id)
