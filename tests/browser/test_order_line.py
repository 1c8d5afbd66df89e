"""The cake scenario (issue 10, item 1) in a real browser: a shopper orders a birthday cake — a
size and a filling, a pick-up date, a message for the cake, a coupon — and pays with 4242…; the
merchant then reads the pick-up date and the message on the payment page and in the CSV export
of that page's payments."""
from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import log_in
from tests.factories import make_cake, make_store, make_user

pytestmark = pytest.mark.browser

MERCHANT = "bo@bakery.example"


@pytest.fixture
def bakery(db) -> dict:
    user = make_user(db, email=MERCHANT, name="Bo Baker", verified=True)
    store = make_store(db, owner=user, name="Bo's Bakery", slug="bakery")
    cake = make_cake(db, store)
    db.commit()
    return {"store_id": store.id, "page_id": cake.id}


def _order_the_cake(page: Page) -> None:
    page.goto("/c/bakery/cake")
    expect(page.get_by_role("heading", level=1, name="Birthday cake")).to_be_visible()
    page.get_by_label("Large (+$5.00)").check()
    expect(page).to_have_url(re.compile(r"/c/s/cs_"))  # the first change opened the session
    page.get_by_label("Lemon (+$2.00)").check()
    page.get_by_label("Pick-up date").fill("2026-12-20")
    page.get_by_label("Message").fill("Happy 30th, Bob!")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Name", exact=True).fill("Ann Buyer")
    page.get_by_label("Coupon code").fill("bday10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#checkout-coupon")).to_contain_text("Coupon BDAY10 applied.")
    expect(page.locator("#checkout-summary [data-amount=total]")).to_have_text("$33.30")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", level=1, name="Thank you, your payment went through")).to_be_visible()


def test_the_merchant_reads_what_the_shopper_ordered(new_page, browser_session, bakery):
    _order_the_cake(new_page())

    merchant = new_page()
    log_in(merchant, MERCHANT)
    merchant.goto(f"/dashboard/stores/{bakery['store_id']}/payments?page={bakery['page_id']}")
    row = merchant.locator("table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Birthday cake")
    expect(row).to_contain_text("$33.30")

    with merchant.expect_download() as download:
        merchant.get_by_role("button", name="Export CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    [exported] = list(csv.DictReader(io.StringIO(text)))
    assert (exported["field:pickup_date"], exported["field:message"]) == ("2026-12-20", "Happy 30th, Bob!")

    row.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    order = merchant.locator("section", has=merchant.get_by_role("heading", name="Order"))
    expect(order).to_contain_text("Large")
    expect(order).to_contain_text("Lemon")
    expect(order.locator("[data-key=pickup_date]")).to_have_text("2026-12-20")
    expect(order.locator("[data-key=message]")).to_have_text("Happy 30th, Bob!")
    expect(order).to_contain_text("BDAY10")
    assert browser_session.errors == []
