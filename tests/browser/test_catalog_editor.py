"""A merchant's catalog, end to end in a real browser with htmx on: create a page, give it a
variant with two options and three custom fields inline, reorder the fields, make a coupon for
it, publish it and preview it as shoppers will see it. The inline editors must swap their part
of the editor without reloading it, and the console must stay free of errors (a CSP violation
is one)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from checkie.catalog.models import Coupon, CustomField, PageStatus
from checkie.catalog.models import Page as CheckoutPage
from tests.browser.chromium import SCREENSHOTS, log_in
from tests.factories import DEFAULT_PASSWORD, make_store, make_user

pytestmark = pytest.mark.browser

EMAIL = "lea@papercrane.example"
TITLE = "Linen tote bag"
FIELDS = [("Company", "text"), ("Size note", "textarea"), ("Gift", "checkbox")]
REORDERED = ["Company", "Gift", "Size note"]
MARKER = "window.__catalogEditorMarker"


@pytest.fixture
def merchant(db):
    """A verified merchant who owns one store; returns the store's id."""
    user = make_user(db, email=EMAIL, name="Léa Crane", verified=True)
    store = make_store(db, owner=user, name="Paper Crane", slug="paper-crane")
    db.commit()
    return store.id


def _create_page(page: Page, store_id: int) -> int:
    page.goto(f"/dashboard/stores/{store_id}/pages")
    page.get_by_role("button", name="New page").first.click()
    expect(page.get_by_role("heading", level=1, name="New checkout page")).to_be_visible()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Description").fill("Heavy linen, hand-stitched.")
    page.get_by_label("One-time payment").check()
    page.get_by_label("Price").fill("25.00")
    page.get_by_label("Accept coupon codes").check()
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="was created as a draft")).to_be_visible()
    return int(re.search(r"/pages/(\d+)$", page.url).group(1))


def _add_variant(page: Page) -> None:
    variants = page.locator("#variants")
    variants.get_by_label("Variant name").fill("Size")
    variants.get_by_role("button", name="Add variant").click()
    expect(variants.get_by_role("status")).to_have_text("Added the variant “Size”. Now give it options.")
    # HX-Trigger: page-changed makes the status panel refresh itself with the new problem.
    expect(page.locator("#page-status")).to_contain_text("“Size” has no options")
    for name, delta in (("Small", "0.00"), ("Large", "5.00")):
        form = page.get_by_role("form", name="Add an option to Size")
        form.get_by_label("Option name").fill(name)
        form.get_by_label("Price change").fill(delta)
        form.get_by_role("button", name="Add option").click()
        expect(page.locator("#variants").get_by_role("status")).to_have_text(f"Added “{name}” to “Size”.")
    rows = page.locator("#variants tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(re.compile(r"Small\s*no change\s*\$25\.00"))
    expect(rows.nth(1)).to_contain_text(re.compile(r"Large\s*\+\$5\.00\s*\$30\.00"))
    expect(page.locator("#page-status")).not_to_contain_text("has no options")


def _add_fields(page: Page) -> None:
    section = page.locator("#custom-fields")
    for number, (label, kind) in enumerate(FIELDS):
        if number:  # the add form folds away once the page has a field
            section.locator("summary", has_text="Add a field").click()
        form = section.get_by_role("form", name="Add a field")
        form.get_by_label("Label").fill(label)
        form.get_by_label("Type").select_option(kind)
        form.get_by_role("button", name="Add field").click()
        key = label.lower().replace(" ", "_")
        expect(page.locator("#custom-fields").get_by_role("status")).to_have_text(f"Added “{label}” ({key}).")
    _expect_field_order(page, [label for label, _ in FIELDS])


def _expect_field_order(page: Page, labels: list[str]) -> None:
    expect(page.locator("#custom-fields tbody tr td:first-child")).to_have_text(labels)


def _field_labels_in_db(db, page_id: int) -> list[str]:
    db.expire_all()
    labels = db.scalars(
        sa.select(CustomField.label).where(CustomField.page_id == page_id).order_by(CustomField.position)
    ).all()
    db.rollback()
    return list(labels)


def _create_coupon(page: Page, store_name: str) -> None:
    page.get_by_role("navigation", name=store_name).get_by_role("link", name="Coupons").click()
    page.get_by_role("button", name="New coupon").click()
    expect(page.get_by_role("heading", level=1, name="New coupon")).to_be_visible()
    page.get_by_label("Code").fill("SAVE10")
    page.get_by_label("Percentage off").check()
    page.get_by_label("Percent off").fill("10")
    page.get_by_label("Only on these pages").select_option(label=TITLE)
    page.get_by_role("button", name="Create coupon").click()
    expect(page.get_by_role("status").filter(has_text="Coupon SAVE10 saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/coupons$"))  # the list, not …/new
    row = page.get_by_role("row").filter(has_text="SAVE10")
    expect(row).to_contain_text("10% off")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text(TITLE)


def _publish(page: Page, store_name: str) -> None:
    page.get_by_role("navigation", name=store_name).get_by_role("link", name="Pages").click()
    page.get_by_role("link", name=TITLE).click()
    status = page.locator("#page-status")
    expect(status).to_contain_text("Draft")
    status.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=f"“{TITLE}” is published")).to_be_visible()
    status = page.locator("#page-status")
    expect(status.get_by_role("heading")).to_contain_text(re.compile(r"Published\s+on sale since"))
    expect(status.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    expect(status.get_by_role("button", name="Unpublish")).to_be_visible()
    expect(page.get_by_label("Checkout link")).to_have_value(re.compile(r"/c/paper-crane/linen-tote-bag$"))


def _check_preview(page: Page) -> None:
    # Links styled as buttons (role="button") read as buttons.
    page.get_by_role("button", name="Preview").click()
    expect(page).to_have_url(re.compile(r"/preview$"))
    summary = page.locator("article.checkout-summary")
    expect(summary.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(summary.locator(".checkout-price")).to_contain_text("$25.00")
    expect(summary.locator(".checkout-total")).to_contain_text("$25.00")
    size = summary.get_by_role("group", name="Size")
    expect(size.get_by_role("radio")).to_have_count(2)
    expect(size.get_by_label("Small")).to_be_checked()
    expect(size.locator("label")).to_have_text([re.compile(r"^\s*Small\s*$"), re.compile(r"Large\s*\(\+\$5\.00\)")])
    controls = summary.locator("[name^='field_']")
    expect(controls).to_have_count(3)
    ids = controls.evaluate_all("els => els.map(el => el.id + ':' + el.tagName.toLowerCase() + ':' + (el.type || ''))")
    assert ids == [
        "checkout-field_company:input:text",
        "checkout-field_gift:input:checkbox",
        "checkout-field_size_note:textarea:textarea",
    ]
    for label in REORDERED:
        expect(summary.get_by_label(label, exact=True)).to_be_disabled()
    expect(page.get_by_label("Coupon code")).to_be_visible()


def test_merchant_builds_publishes_and_previews_a_page(page: Page, browser_session, db, merchant):
    store_id, store_name = merchant, "Paper Crane"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, EMAIL)
    page_id = _create_page(page, store_id)

    # From here on the editor must change in place: a marker on window survives, no navigation.
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.evaluate(f"() => {{ {MARKER} = 'kept'; }}")
    editor_url = page.url

    _add_variant(page)
    _add_fields(page)
    page.get_by_role("button", name="Move Gift up").click()
    expect(page.locator("#custom-fields").get_by_role("status")).to_have_text("Moved “Gift” up.")
    _expect_field_order(page, REORDERED)
    assert _field_labels_in_db(db, page_id) == REORDERED

    assert page.evaluate(f"() => {MARKER}") == "kept", "the editor reloaded during an inline edit"
    assert navigations == [] and page.url == editor_url

    _create_coupon(page, store_name)
    db.expire_all()
    coupon = db.scalars(sa.select(Coupon).where(Coupon.store_id == store_id)).one()
    assert (coupon.code, coupon.percent_off, [p.id for p in coupon.pages]) == ("SAVE10", 10, [page_id])
    db.rollback()

    _publish(page, store_name)
    db.expire_all()
    assert db.get(CheckoutPage, page_id).status is PageStatus.PUBLISHED
    db.rollback()
    page.screenshot(path=str(SCREENSHOTS / "catalog-editor.png"), full_page=True)

    _check_preview(page)
    page.screenshot(path=str(SCREENSHOTS / "catalog-preview.png"), full_page=True)

    csp = [error for error in browser_session.errors if "Content Security Policy" in error]
    assert csp == [], csp
    assert browser_session.errors == []
