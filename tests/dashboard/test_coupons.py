"""Dashboard: coupons — list, create, edit, deactivate/activate, delete; htmx fragments; roles."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from checkie.catalog.coupons import reserve_redemption
from checkie.catalog.models import Coupon
from checkie.database import utcnow
from checkie.stores.models import Role
from tests.factories import add_member, make_coupon, make_page, make_store, make_user
from tests.http import HX, login_as, post_form


def index_url(store) -> str:
    return f"/dashboard/stores/{store.id}/coupons"


def coupon_url(store, coupon, action: str = "") -> str:
    return f"{index_url(store)}/{coupon.id}" + (f"/{action}" if action else "")


def form_data(**overrides) -> dict:
    data = {"code": "SUMMER15", "kind": "percent", "percent_off": "15", "amount_off": "", "currency": "USD",
            "minimum_amount": "", "max_redemptions": "", "expires_at": "", "duration": "once", "duration_months": ""}
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(client, user, store):
    login_as(client, user)
    return client


@pytest.fixture
def viewer(db, store):
    viewer = make_user(db, email="viewer@example.com", name="Vic Viewer")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    return viewer


def only_coupon(db) -> Coupon:
    [coupon] = db.scalars(sa.select(Coupon)).all()
    return coupon


def test_the_empty_list_invites_the_first_coupon(admin_client, store):
    page = admin_client.get(index_url(store)).get_data(as_text=True)
    assert "No coupons yet" in page and "Create a coupon" in page and f"{index_url(store)}/new" in page
    assert 'aria-current="page"' in page  # the sidebar knows where we are


def test_the_list_shows_each_coupons_terms(admin_client, db, store):
    mug = make_page(db, store, title="Mug")
    make_coupon(db, store, code="Pct15", percent_off=15, max_redemptions=10)
    make_coupon(db, store, code="FIVE", amount_off=500, currency="USD", page_ids=[mug.id], minimum_amount=2000)
    make_coupon(db, store, code="LOYAL", duration="repeating", duration_months=3, expires_at=utcnow() + timedelta(days=2))
    used = make_coupon(db, store, code="ONCEONLY", max_redemptions=1)
    reserve_redemption(db, used.id)
    off = make_coupon(db, store, code="PAUSED")
    off.active = False
    db.commit()
    page = admin_client.get(index_url(store)).get_data(as_text=True)
    for text in ("Pct15", "15% off", "0 / 10", "$5.00 off", "title=\"Mug\"", "Subtotal from $20.00", "All pages",
                 "for 3 months", "Never expires", "Expires ", "Used up", "Inactive", "Active", "no limit"):
        assert text in page, text
    assert "Deactivate PAUSED" not in page and 'aria-label="Activate PAUSED"' in page
    assert not re.search(r"\sstyle=", page) and not re.search(r"<script(?![^>]*\ssrc=)", page)  # CSP


def test_create_a_percentage_coupon(admin_client, db, store):
    response = post_form(admin_client, f"{index_url(store)}/new", form_data(code="Summer15"))
    assert response.status_code == 303 and response.headers["Location"].endswith(index_url(store))
    coupon = only_coupon(db)
    # A percentage is currency-free: the form's default currency does not tie it to USD pages.
    assert (coupon.code, coupon.percent_off, coupon.amount_off, coupon.currency) == ("Summer15", 15, None, None)
    assert "Coupon Summer15 saved." in admin_client.get(index_url(store)).get_data(as_text=True)


def test_a_percentage_keeps_the_currency_of_its_minimum(admin_client, db, store):
    post_form(admin_client, f"{index_url(store)}/new", form_data(code="BIG10", minimum_amount="40.00"))
    coupon = only_coupon(db)
    assert (coupon.percent_off, coupon.currency, coupon.minimum_amount) == (15, "USD", 4000)


def test_the_list_says_which_coupons_work_in_one_currency_only(admin_client, db, store):
    make_coupon(db, store, code="PCT", percent_off=10)
    make_coupon(db, store, code="FIXED", amount_off=500, currency="EUR")
    db.commit()
    page = admin_client.get(index_url(store)).get_data(as_text=True)
    rows = {code: page[page.index(f">{code}<"):] for code in ("PCT", "FIXED")}
    assert "(EUR only)" in rows["FIXED"].split("</tr>")[0]
    assert "only)" not in rows["PCT"].split("</tr>")[0]


@pytest.mark.parametrize(("currency", "typed", "minor"), [("USD", "12.50", 1250), ("JPY", "500", 500), ("BHD", "1.250", 1250)])
def test_amounts_are_typed_in_major_units_of_the_currency(admin_client, db, store, currency, typed, minor):
    data = form_data(kind="amount", percent_off="", amount_off=typed, currency=currency, minimum_amount=typed)
    assert post_form(admin_client, f"{index_url(store)}/new", data).status_code == 303
    coupon = only_coupon(db)
    assert (coupon.amount_off, coupon.minimum_amount, coupon.currency, coupon.percent_off) == (minor, minor, currency, None)


def test_the_expiry_is_read_as_utc(admin_client, db, store):
    page = admin_client.get(f"{index_url(store)}/new").get_data(as_text=True)
    assert "Expires (UTC)" in page and 'type="datetime-local"' in page
    post_form(admin_client, f"{index_url(store)}/new", form_data(expires_at="2099-05-01T12:30"))
    assert only_coupon(db).expires_at == datetime(2099, 5, 1, 12, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "ab"}, "code"),
        ({"code": "has space"}, "code"),
        ({"percent_off": ""}, "percent_off"),
        ({"percent_off": "101"}, "percent_off"),
        ({"percent_off": "ten"}, "percent_off"),
        ({"kind": "amount", "amount_off": "12.505"}, "amount_off"),
        ({"kind": "amount", "amount_off": ""}, "amount_off"),
        ({"kind": "amount", "amount_off": "-5"}, "amount_off"),
        ({"kind": "amount", "amount_off": "5", "currency": ""}, "currency"),
        ({"max_redemptions": "0"}, "max_redemptions"),
        ({"expires_at": "2001-01-01T00:00"}, "expires_at"),
        ({"expires_at": "someday"}, "expires_at"),
        ({"duration": "repeating"}, "duration_months"),
        ({"duration": "repeating", "duration_months": "40"}, "duration_months"),
    ],
)
def test_errors_sit_beside_their_field_in_a_422_fragment(admin_client, db, store, overrides, field):
    response = post_form(admin_client, f"{index_url(store)}/new", form_data(**overrides), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert body.lstrip().startswith('<form id="coupon-form"')
    assert f'id="{field}-error"' in body and f'aria-describedby="{field}-error' in body
    assert db.scalar(sa.select(sa.func.count(Coupon.id))) == 0


@pytest.mark.parametrize("percent", ["", "ten"])
def test_every_problem_is_reported_at_once(admin_client, store, percent):
    data = form_data(code="x", percent_off=percent, max_redemptions="0", duration="repeating")
    body = post_form(admin_client, f"{index_url(store)}/new", data, headers=HX).get_data(as_text=True)
    for field in ("code", "percent_off", "max_redemptions", "duration_months"):
        assert f'id="{field}-error"' in body, field
    assert body.count('id="percent_off-error"') == 1  # its own message only, not the service's as well


def test_without_htmx_an_invalid_form_is_the_whole_page_with_422(admin_client, store):
    response = post_form(admin_client, f"{index_url(store)}/new", form_data(code="x"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in body and 'id="code-error"' in body
    assert 'value="x"' in body  # what was typed stays


def test_codes_are_unique_regardless_of_case(admin_client, db, store):
    make_coupon(db, store, code="Summer15")
    db.commit()
    response = post_form(admin_client, f"{index_url(store)}/new", form_data(code="SUMMER15"), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="code-error"' in body and "already exists" in body


def test_htmx_create_redirects_with_hx_redirect(admin_client, db, store):
    response = post_form(admin_client, f"{index_url(store)}/new", form_data(), headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(index_url(store))
    assert only_coupon(db).code == "SUMMER15"


def test_restricting_to_pages_of_the_store_only(admin_client, db, store):
    tee, mug = make_page(db, store, title="Tee"), make_page(db, store, title="Mug")
    foreign = make_page(db, make_store(db, name="Other"), title="Foreign")
    db.commit()
    page = admin_client.get(f"{index_url(store)}/new").get_data(as_text=True)
    assert "Tee" in page and "Mug" in page and "Foreign" not in page
    response = post_form(admin_client, f"{index_url(store)}/new", form_data(page_ids=[foreign.id]), headers=HX)
    assert response.status_code == 422 and 'id="page_ids-error"' in response.get_data(as_text=True)
    post_form(admin_client, f"{index_url(store)}/new", form_data(page_ids=[tee.id, mug.id]))
    assert {p.title for p in only_coupon(db).pages} == {"Tee", "Mug"}


def test_edit_shows_the_terms_in_major_units_and_saves(admin_client, db, store):
    coupon = make_coupon(db, store, code="FIVE", amount_off=1250, currency="USD", max_redemptions=3)
    db.commit()
    page = admin_client.get(coupon_url(store, coupon)).get_data(as_text=True)
    assert 'value="12.50"' in page and 'value="FIVE"' in page and "Edit terms" in page and "Delete coupon" in page
    data = form_data(code="five", kind="amount", percent_off="", amount_off="7.5", max_redemptions="")
    response = post_form(admin_client, coupon_url(store, coupon), data, page=coupon_url(store, coupon))
    assert response.status_code == 303
    db.refresh(coupon)
    assert (coupon.code, coupon.amount_off, coupon.max_redemptions) == ("five", 750, None)


def test_an_expired_coupon_can_be_edited_without_touching_its_expiry(admin_client, db, store):
    coupon = make_coupon(db, store, code="OLD", expires_at=utcnow() + timedelta(days=1))
    db.commit()
    past = datetime(2024, 3, 1, 10, 15, 42, tzinfo=timezone.utc)
    db.execute(sa.update(Coupon).where(Coupon.id == coupon.id).values(expires_at=past))
    db.commit()
    data = form_data(code="OLD", percent_off="20", expires_at="2024-03-01T10:15")
    response = post_form(admin_client, coupon_url(store, coupon), data, page=coupon_url(store, coupon))
    assert response.status_code == 303
    db.refresh(coupon)
    assert (coupon.percent_off, coupon.expires_at) == (20, past)


def test_htmx_edit_errors_come_back_as_the_form(admin_client, db, store):
    coupon = make_coupon(db, store, code="EDIT")
    db.commit()
    response = post_form(admin_client, coupon_url(store, coupon), form_data(code="!"), page=coupon_url(store, coupon), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.lstrip().startswith('<form id="coupon-form"') and 'id="code-error"' in body


def test_deactivate_and_activate_swap_the_row(admin_client, db, store):
    coupon = make_coupon(db, store, code="TOGGLE")
    db.commit()
    response = post_form(admin_client, coupon_url(store, coupon, "deactivate"), {"back": "list"}, page=index_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="coupon-{coupon.id}"') and "Inactive" in body and "Activate TOGGLE" in body
    db.refresh(coupon)
    assert not coupon.active
    response = post_form(admin_client, coupon_url(store, coupon, "activate"), {"back": "list"}, page=index_url(store), headers=HX)
    assert "Deactivate TOGGLE" in response.get_data(as_text=True)
    db.refresh(coupon)
    assert coupon.active


def test_without_htmx_a_toggle_redirects_back(admin_client, db, store):
    coupon = make_coupon(db, store, code="PLAIN")
    db.commit()
    response = post_form(admin_client, coupon_url(store, coupon, "deactivate"), {"back": "coupon"}, page=coupon_url(store, coupon))
    assert response.status_code == 303 and response.headers["Location"].endswith(coupon_url(store, coupon))
    response = post_form(admin_client, coupon_url(store, coupon, "activate"), {"back": "list"}, page=index_url(store))
    assert response.status_code == 303 and response.headers["Location"].endswith(index_url(store))
    assert "PLAIN is active again." in admin_client.get(index_url(store)).get_data(as_text=True)


def test_a_forged_back_value_changes_nothing(admin_client, db, store):
    coupon = make_coupon(db, store, code="SAFE")
    db.commit()
    response = post_form(admin_client, coupon_url(store, coupon, "deactivate"), {"back": "https://evil.example"}, page=index_url(store), headers=HX)
    assert response.status_code == 422 and "reload the page" in response.get_data(as_text=True)
    db.refresh(coupon)
    assert coupon.active


def test_delete_from_the_list_returns_the_list(admin_client, db, store):
    coupon = make_coupon(db, store, code="GONE")
    db.commit()
    response = post_form(admin_client, coupon_url(store, coupon, "delete"), {"back": "list"}, page=index_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="coupon-list"')
    assert "Coupon GONE was deleted." in body and "No coupons yet" in body
    assert db.scalar(sa.select(sa.func.count(Coupon.id))) == 0


def test_delete_without_htmx_redirects_to_the_list(admin_client, db, store):
    coupon = make_coupon(db, store, code="GONE")
    db.commit()
    response = post_form(admin_client, coupon_url(store, coupon, "delete"), {"back": "coupon"}, page=coupon_url(store, coupon))
    assert response.status_code == 303 and response.headers["Location"].endswith(index_url(store))
    assert db.scalar(sa.select(sa.func.count(Coupon.id))) == 0


def test_filters_and_pagination(admin_client, db, store):
    made = [make_coupon(db, store, code=f"CODE{i:02}") for i in range(27)]
    made[0].active = False
    db.commit()
    first = admin_client.get(index_url(store)).get_data(as_text=True)
    assert "CODE26" in first and "CODE02" in first and "CODE01" not in first and 'rel="next"' in first
    older = re.search(r'href="([^"]*before=\d+)"', first).group(1).replace("&amp;", "&")
    second = admin_client.get(older).get_data(as_text=True)
    assert "CODE01" in second and "CODE00" in second and "CODE02" not in second and "Newest" in second
    inactive = admin_client.get(index_url(store) + "?status=inactive").get_data(as_text=True)
    assert "CODE00" in inactive and "CODE01" not in inactive


def test_viewers_see_but_do_not_change(client, db, store, viewer):
    coupon = make_coupon(db, store, code="LOOK")
    db.commit()
    login_as(client, viewer)
    listing = client.get(index_url(store)).get_data(as_text=True)
    assert "LOOK" in listing and "New coupon" not in listing and "Deactivate" not in listing and "Delete" not in listing
    detail = client.get(coupon_url(store, coupon)).get_data(as_text=True)
    assert "you can see its coupons but not change them" in detail and 'id="coupon-form"' not in detail
    assert client.get(f"{index_url(store)}/new").status_code == 403
    for url, data in (
        (f"{index_url(store)}/new", form_data()),
        (coupon_url(store, coupon), form_data(code="LOOK", percent_off="90")),
        (coupon_url(store, coupon, "deactivate"), {"back": "list"}),
        (coupon_url(store, coupon, "delete"), {"back": "list"}),
    ):
        assert post_form(client, url, data, page=index_url(store)).status_code == 403
    db.refresh(coupon)
    assert coupon.active and coupon.percent_off == 10 and db.scalar(sa.select(sa.func.count(Coupon.id))) == 1


def test_another_stores_coupons_are_404(admin_client, db, store):
    foreign = make_coupon(db, make_store(db, name="Other"), code="FOREIGN")
    db.commit()
    assert admin_client.get(coupon_url(store, foreign)).status_code == 404
    for action in ("", "deactivate", "activate", "delete"):
        response = post_form(admin_client, coupon_url(store, foreign, action), form_data(), page=index_url(store))
        assert response.status_code == 404, action
    assert admin_client.get(f"{index_url(store)}/{2**63}").status_code == 404
    db.refresh(foreign)
    assert foreign.active


def test_outsiders_get_404_and_anonymous_visitors_the_login(client, db, store):
    outsider = make_user(db, email="outsider@example.com")
    db.commit()
    assert client.get(index_url(store)).status_code in (302, 303)
    login_as(client, outsider)
    assert client.get(index_url(store)).status_code == 404
