"""Dashboard: the pages list, creating a page, the editor (details, status actions, duplicate,
delete), the preview, roles and other stores' ids. Variants inline: test_pages_variants.py."""
import re

import pytest
import sqlalchemy as sa

from checkie.catalog import pages, variants
from checkie.catalog.models import (
    CustomField,
    FieldType,
    Page,
    PageStats,
    PageStatus,
    PricingType,
)
from checkie.stores.models import Role
from tests.factories import add_member, make_page, make_store, make_user
from tests.http import HX, csrf_token, login_as, post_form


def list_url(store) -> str:
    return f"/dashboard/stores/{store.id}/pages"


def page_url(store, page, action: str = "") -> str:
    return f"/dashboard/stores/{store.id}/pages/{page.id}" + (f"/{action}" if action else "")




FORM = {"title": "Summer Tee", "slug": "", "description": "Soft.", "pricing_type": "one_time", "amount": "12.50",
        "currency": "USD", "interval": "", "interval_count": "1", "trial_days": "0", "success_url": ""}


@pytest.fixture
def owner(client, user):
    login_as(client, user)
    return user


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------- list ----------

def test_the_list_shows_pages_with_price_status_and_stats(client, db, store, owner):
    tee = make_page(db, store, title="Blue tee")
    make_page(db, store, title="Club", pricing_type="subscription", interval="month", interval_count=3, trial_days=7, amount=900)
    db.commit()
    tee.stats.views, tee.stats.sessions, tee.stats.conversions, tee.stats.revenue = 40, 12, 3, 7500
    make_page(db, make_store(db, name="Other", slug="other"), title="Not ours")
    db.commit()
    response = client.get(list_url(store))
    html = text(response)
    assert response.status_code == 200 and "<html" in html
    assert "Blue tee" in html and "Club" in html and "Not ours" not in html
    assert "$25.00" in html and "$75.00" in html and "every 3 months" in html and "7-day trial" in html
    row = re.search(r'<tr id="page-%d">(.*?)</tr>' % tee.id, html, re.S).group(1)
    assert all(f'<td class="num">{n}</td>' in row for n in (40, 12, 3))
    assert f'href="/dashboard/stores/{store.id}/pages/new"' in html


def test_search_and_status_filter_answer_the_list_fragment_to_htmx(client, db, store, owner):
    make_page(db, store, title="Blue hoodie")
    mug = make_page(db, store, title="Mug")
    db.commit()
    pages.publish_page(db, mug)
    db.commit()
    response = client.get(list_url(store), query_string={"q": "HOOD"}, headers=HX)
    html = text(response)
    assert response.status_code == 200 and "<html" not in html and html.lstrip().startswith('<div id="page-list">')
    assert "Blue hoodie" in html and "Mug" not in html and "HX-Request" in response.headers["Vary"]
    published = text(client.get(list_url(store), query_string={"status": "published"}))
    assert "Mug" in published and "Blue hoodie" not in published
    nothing = text(client.get(list_url(store), query_string={"q": "zzz"}))
    assert "No pages match" in nothing
    odd = client.get(list_url(store), query_string={"status": "bogus", "before": "x"})
    assert odd.status_code == 200 and "Blue hoodie" in text(odd)
    assert client.get(list_url(store), query_string={"q": "a\x00b"}).status_code == 422


def test_the_list_paginates(client, db, store, owner, monkeypatch):
    from checkie.dashboard import pages as view

    monkeypatch.setattr(view, "PER_PAGE", 2)
    for n in range(3):
        make_page(db, store, title=f"Page {n}")
        db.commit()
    first = text(client.get(list_url(store)))
    assert "Page 2" in first and "Page 1" in first and "Page 0" not in first
    older = re.search(r'href="([^"]+before=\d+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(older))
    assert "Page 0" in second and "Page 2" not in second and "Newest" in second


def test_an_empty_store_invites_the_first_page_and_viewers_only_read(client, db, store, owner):
    assert "Create your first checkout page" in text(client.get(list_url(store)))
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    make_page(db, store, title="Visible")
    db.commit()
    login_as(client, viewer)
    html = text(client.get(list_url(store)))
    assert "Visible" in html and "/pages/new" not in html
    assert client.get(list_url(store) + "/new").status_code == 403


# ---------- create ----------

def test_create_with_a_plain_post_redirects_to_the_editor(client, db, store, owner):
    new_url = list_url(store) + "/new"
    assert re.search(r'<option selected value="USD">', text(client.get(new_url)))
    response = post_form(client, new_url, FORM)
    page = db.scalar(sa.select(Page))
    assert response.status_code == 303 and response.headers["Location"].endswith(page_url(store, page))
    assert (page.title, page.slug, page.amount, page.currency, page.status) == ("Summer Tee", "summer-tee", 1250, "USD", PageStatus.DRAFT)
    assert "was created as a draft" in text(client.get(response.headers["Location"]))


def test_create_over_htmx_answers_hx_redirect(client, db, store, owner):
    response = post_form(client, list_url(store) + "/new", {**FORM, "pricing_type": "subscription", "interval": "week",
                                                            "interval_count": "2", "trial_days": "14"}, headers=HX)
    page = db.scalar(sa.select(Page))
    assert response.status_code == 200 and response.headers["HX-Redirect"] == page_url(store, page)
    assert (page.pricing_type, page.interval.value, page.interval_count, page.trial_days) == (PricingType.SUBSCRIPTION, "week", 2, 14)


@pytest.mark.parametrize(
    "currency, typed, minor",
    [("USD", "12.5", 1250), ("USD", "1,200.00", 120000), ("JPY", "1200", 1200), ("BHD", "1.234", 1234), ("KWD", "0", 0)],
)
def test_money_is_typed_in_major_units_of_the_currency(client, db, store, owner, currency, typed, minor):
    response = post_form(client, list_url(store) + "/new", {**FORM, "currency": currency, "amount": typed})
    assert response.status_code == 303, text(response)
    assert db.scalar(sa.select(Page.amount)) == minor


@pytest.mark.parametrize(
    "currency, typed, message",
    [("JPY", "12.5", "JPY has no minor unit"), ("BHD", "1.2345", "at most 3 decimal places"),
     ("USD", "1.001", "at most 2 decimal places"), ("USD", "abc", "Enter an amount"), ("USD", "-5", "zero or more"),
     ("USD", "", "This field is required"), ("USD", "1e999999999", "too large"), ("USD", "9" * 30, "too long"),
     ("USD", "10000000000.01", "too large")],
)
def test_amounts_beyond_the_currency_exponent_are_422_beside_the_price(client, db, store, owner, currency, typed, message):
    response = post_form(client, list_url(store) + "/new", {**FORM, "currency": currency, "amount": typed}, headers=HX)
    html = text(response)
    assert response.status_code == 422 and "<html" not in html and html.lstrip().startswith('<form id="page-form"')
    error = re.search(r'<small id="amount-error" class="field-error">([^<]*)</small>', html)
    assert error and message in error.group(1), html
    assert db.scalar(sa.select(sa.func.count(Page.id))) == 0


def test_service_errors_show_beside_the_form_fields(client, db, store, owner):
    make_page(db, store, slug="taken")
    db.commit()
    data = {**FORM, "slug": "taken", "success_url": "ftp://x.example", "pricing_type": "subscription",
            "interval": "month", "interval_count": "24"}
    response = post_form(client, list_url(store) + "/new", data)
    html = text(response)
    assert response.status_code == 422 and "<html" in html
    for field in ("slug", "success_url", "interval_count"):
        assert f'id="{field}-error"' in html, field
    assert 'aria-invalid="true"' in html


# ---------- the editor ----------

def test_the_editor_shows_details_stats_status_and_what_blocks_publishing(client, db, store, owner):
    page = make_page(db, store, amount=0)
    db.commit()
    variants.add_variant(db, page, name="Size")
    page.stats.revenue = 123456
    db.commit()
    response = client.get(page_url(store, page))
    html = text(response)
    assert response.status_code == 200 and "<html" in html
    assert 'id="page-form"' in html and 'value="0.00"' in html and "$1,234.56" in html
    assert "Before it can be published" in html and "“Size” has no options" in html and "price above zero" in html
    assert f'action="{page_url(store, page, "publish")}"' in html and 'id="variants"' in html
    assert f'href="{page_url(store, page, "preview")}"' in html and "Delete page" in html
    assert "http://localhost/c/acme/t-shirt" in html


def test_the_status_panel_refreshes_alone_for_htmx(client, db, store, owner):
    page = make_page(db, store)
    db.commit()
    response = client.get(page_url(store, page), query_string={"block": "page_status"}, headers=HX)
    html = text(response)
    assert response.status_code == 200 and "<html" not in html and html.lstrip().startswith('<section id="page-status"')
    assert 'hx-trigger="page-changed from:body"' in html
    assert "<html" in text(client.get(page_url(store, page), query_string={"block": "nonsense"}, headers=HX))


def test_update_saves_and_redirects_or_answers_422_with_the_form(client, db, store, owner):
    page = make_page(db, store, currency="BHD")
    db.commit()
    editor = page_url(store, page)
    assert 'value="2.500"' in text(client.get(editor))
    saved = post_form(client, editor, {**FORM, "title": "Renamed", "currency": "BHD", "amount": "3.750", "slug": "renamed"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith(editor)
    db.expire_all()
    assert (page.title, page.amount, page.slug) == ("Renamed", 3750, "renamed")
    htmx = post_form(client, editor, {**FORM, "currency": "BHD", "amount": "1"}, headers=HX)
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == editor
    refused = post_form(client, editor, {**FORM, "title": "", "amount": "1.5", "currency": "JPY"}, headers=HX)
    html = text(refused)
    assert refused.status_code == 422 and html.lstrip().startswith('<form id="page-form"') and "<html" not in html
    assert 'id="title-error"' in html and 'id="amount-error"' in html
    db.expire_all()
    assert page.currency == "BHD"


def test_a_blank_slug_keeps_the_address(client, db, store, owner):
    page = make_page(db, store)
    db.commit()
    post_form(client, page_url(store, page), {**FORM, "slug": ""})
    db.expire_all()
    assert page.slug == "t-shirt"


def test_publish_refusal_lists_the_reasons(client, db, store, owner):
    page = make_page(db, store, amount=0)
    db.commit()
    editor = page_url(store, page)
    response = post_form(client, page_url(store, page, "publish"), page=editor, headers=HX)
    html = text(response)
    assert response.status_code == 422 and html.lstrip().startswith('<section id="page-status"') and "<html" not in html
    assert "cannot be published yet" in html and "price above zero" in html
    plain = post_form(client, page_url(store, page, "publish"), page=editor)
    assert plain.status_code == 422 and "<html" in text(plain) and "price above zero" in text(plain)
    db.expire_all()
    assert page.status is PageStatus.DRAFT


def test_publish_unpublish_archive_and_restore(client, db, store, owner):
    page = make_page(db, store)
    db.commit()
    editor = page_url(store, page)
    published = post_form(client, page_url(store, page, "publish"), page=editor, headers=HX)
    assert published.status_code == 200 and published.headers["HX-Redirect"] == editor
    db.expire_all()
    assert page.status is PageStatus.PUBLISHED
    html = text(client.get(editor))
    assert "is published" in html and 'id="checkout-url"' in html and "Unpublish" in html and "Delete page" not in html
    again = post_form(client, page_url(store, page, "publish"), page=editor)
    assert again.status_code == 422 and "already published" in text(again)
    assert post_form(client, page_url(store, page, "archive"), page=editor).status_code == 303
    db.expire_all()
    assert page.status is PageStatus.ARCHIVED and "Restore as draft" in text(client.get(editor))
    assert post_form(client, page_url(store, page, "unpublish"), page=editor).status_code == 303
    db.expire_all()
    assert page.status is PageStatus.DRAFT


def test_duplicate_opens_the_copy(client, db, store, owner):
    page = make_page(db, store, title="Hoodie")
    db.commit()
    variants.add_option(db, variants.add_variant(db, page, name="Size"), name="L", price_delta=100)
    db.commit()
    response = post_form(client, page_url(store, page, "duplicate"), page=page_url(store, page))
    copy = db.scalar(sa.select(Page).where(Page.id != page.id))
    assert response.status_code == 303 and response.headers["Location"].endswith(page_url(store, copy))
    assert (copy.title, copy.slug, [v.name for v in copy.variants]) == ("Hoodie (copy)", "hoodie-copy", ["Size"])
    assert "draft copy" in text(client.get(response.headers["Location"]))


def test_delete_a_draft_or_be_told_to_archive(client, db, store, owner):
    draft, used = make_page(db, store, title="Draft"), make_page(db, store, title="Used")
    db.commit()
    db.execute(sa.update(PageStats).where(PageStats.page_id == used.id).values(sessions=2))
    db.commit()
    response = post_form(client, page_url(store, draft, "delete"), page=page_url(store, draft), headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == list_url(store)
    assert db.scalar(sa.select(Page.id).where(Page.id == draft.id)) is None
    html_used = text(client.get(page_url(store, used)))
    assert "Delete page" not in html_used and "Archive this page instead" in html_used
    refused = post_form(client, page_url(store, used, "delete"), page=page_url(store, used), headers=HX)
    html = text(refused)
    assert refused.status_code == 422 and html.lstrip().startswith('<div id="danger-zone"') and "archive it instead" in html
    assert db.scalar(sa.select(Page.id).where(Page.id == used.id)) == used.id


# ---------- preview ----------

def test_the_preview_shows_the_page_as_shoppers_will_see_it(client, db, store, owner):
    page = make_page(db, store, title="Club", description="Line one\nline two\n\nSecond paragraph", pricing_type="subscription",
                     interval="month", trial_days=14, amount=900, allow_coupons=True)
    db.commit()
    plan = variants.add_variant(db, page, name="Plan")
    variants.add_option(db, plan, name="Basic", price_delta=0)
    variants.add_option(db, plan, name="Pro", price_delta=1000)
    page.custom_fields.append(CustomField(key="team", label="Team", type=FieldType.SELECT, options=["Red", "Blue"],
                                          required=True, help_text="Pick one", position=0))
    page.custom_fields.append(CustomField(key="agree", label="I agree", type=FieldType.CHECKBOX, position=1))
    page.custom_fields.append(CustomField(key="phone", label="Phone", type=FieldType.PHONE, position=2))
    db.commit()
    response = client.get(page_url(store, page, "preview"))
    html = text(response)
    assert response.status_code == 200 and "This is a preview" in html and "<html" in html
    assert "<h1" in html and "Club" in html and "$9.00 / month" in html and "14-day free trial" in html
    assert "Line one<br>line two" in html and "<p>Second paragraph</p>" in html
    assert "Plan" in html and "Pro" in html and "+$10.00" in html
    assert re.search(r'<input type="radio"[^>]*name="variant_%d"[^>]*checked disabled' % plan.id, html)
    assert re.search(r'<select[^>]*disabled="disabled"', html) and ">Blue</option>" in html and "Pick one" in html
    assert re.search(r'<input type="checkbox"[^>]*disabled', html) and 'type="tel"' in html
    assert "Coupon code" in html and "The page is a draft" in html


# ---------- roles and tenants ----------

def test_viewers_see_the_editor_read_only_and_cannot_post(client, db, store):
    page = make_page(db, store)
    db.commit()
    variants.add_option(db, variants.add_variant(db, page, name="Size"), name="S", price_delta=0)
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    html = text(client.get(page_url(store, page)))
    assert "You are a viewer" in html and 'method="post"' not in html.split('<main', 1)[1]
    assert "Size" in html and "Publish" not in html
    assert client.get(page_url(store, page, "preview")).status_code == 200
    token = csrf_token(client, page_url(store, page))
    for action in ("", "publish", "archive", "unpublish", "duplicate", "delete", "variants"):
        response = client.post(page_url(store, page, action), data={"csrf_token": token, **FORM, "new-variant-name": "X"})
        assert response.status_code == 403, action
    db.expire_all()
    assert (page.title, page.status, len(page.variants)) == ("T-shirt", PageStatus.DRAFT, 1)


def test_another_stores_page_is_404_through_my_store(client, db, store, owner):
    theirs = make_page(db, make_store(db, name="Other", slug="other"), title="Theirs")
    db.commit()
    token = csrf_token(client, list_url(store))
    mine = f"/dashboard/stores/{store.id}/pages/{theirs.id}"
    for path in (mine, mine + "/preview"):
        assert client.get(path).status_code == 404, path
    for action in ("", "/publish", "/archive", "/unpublish", "/duplicate", "/delete", "/variants"):
        assert client.post(mine + action, data={"csrf_token": token, **FORM}).status_code == 404, action
    assert client.get(f"/dashboard/stores/{store.id}/pages/{2**63}").status_code == 404
    db.expire_all()
    assert (theirs.title, theirs.status) == ("Theirs", PageStatus.DRAFT)
    assert db.scalar(sa.select(sa.func.count(Page.id))) == 1
