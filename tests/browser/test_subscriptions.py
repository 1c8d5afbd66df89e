"""Issue 13 in a real browser: a shopper subscribes to a monthly plan with a free trial and is told
when it ends; the merchant moves the store's test clock past the trial from the dashboard's test-mode
bar, sees the first charge on the subscription's page, then cancels it now, through the confirm dialog."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import log_in
from tests.factories import make_page, make_store, make_user

pytestmark = pytest.mark.browser

MERCHANT = "rosa@roastery.example"


@pytest.fixture
def roastery(db) -> int:
    user = make_user(db, email=MERCHANT, name="Rosa Roaster", verified=True)
    store = make_store(db, owner=user, name="Rosa's Roastery", slug="roastery", currency="EUR")
    make_page(db, store, title="Coffee Club", slug="club", amount=900, currency="EUR", pricing_type="subscription",
              interval="month", trial_days=14, allow_coupons=False, publish=True)
    db.commit()
    return store.id


def _start_the_trial(page: Page) -> None:
    page.goto("/c/roastery/club")
    expect(page.get_by_role("heading", level=1, name="Coffee Club")).to_be_visible()
    expect(page.get_by_text("14-day free trial")).to_be_visible()
    page.get_by_label("Email").fill("kim@example.com")
    page.get_by_label("Name", exact=True).fill("Kim Sipper")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Start free trial").click()
    expect(page.get_by_text(re.compile(r"Your trial ends on .+, then €9\.00 every month\."))).to_be_visible()


def test_a_trial_is_charged_when_the_clock_passes_its_end_and_the_merchant_cancels_it(
        new_page, browser_session, roastery):
    _start_the_trial(new_page())

    merchant = new_page()
    log_in(merchant, MERCHANT)
    merchant.get_by_role("link", name="Subscriptions", exact=True).click()
    rows = merchant.get_by_role("row").filter(has_text="kim@example.com")
    expect(rows).to_contain_text("Trialing")
    rows.get_by_role("link").first.click()
    expect(merchant.locator("#subscription-status")).to_contain_text("Trialing")
    expect(merchant.locator("section[aria-labelledby=payments-title]")).not_to_contain_text("€9.00")

    merchant.get_by_role("button", name="+7 days").click()
    expect(merchant.get_by_text(re.compile(r"0 renewals charged"))).to_be_visible()
    expect(merchant.locator("#subscription-status")).to_contain_text("Trialing")
    merchant.locator("#test-clock-form").get_by_label("Advance clock by").fill("8")
    merchant.locator("#test-clock-form").get_by_role("button", name="Advance").click()
    expect(merchant.get_by_text(re.compile(r"1 renewals? charged"))).to_be_visible()
    expect(merchant.locator("#subscription-status")).to_contain_text("Active")
    expect(merchant.locator("section[aria-labelledby=payments-title]")).to_contain_text("€9.00")
    expect(merchant.locator("#subscription-timeline")).to_contain_text(re.compile("trial", re.I))

    merchant.locator("#cancel-form").get_by_label("Reason").select_option("requested_by_customer")
    merchant.get_by_role("button", name="Cancel now").click()
    merchant.get_by_role("dialog").get_by_role("button", name=re.compile("Cancel now|Yes|Confirm")).click()
    expect(merchant.locator("#subscription-status")).to_contain_text("Canceled")
    expect(merchant.get_by_role("button", name="Cancel now")).to_have_count(0)
    expect(merchant.locator("#subscription-timeline")).to_contain_text(re.compile("cancel", re.I))
