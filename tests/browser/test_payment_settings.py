"""A merchant connects their own Stripe test account in the dashboard: saves the keys, sees them
masked and the store in test mode, and asks Stripe (localstripe here) whether they work."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import log_in
from tests.factories import make_store, make_user
from tests.providers.localstripe import PUBLISHABLE_KEY, SECRET_KEY, STORE_WEBHOOK_SECRET

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant(app, db, localstripe, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe.api_base)
    user = make_user(db, email="noor@kites.example", verified=True)
    make_store(db, owner=user, name="Kite Works", slug="kites")
    db.commit()
    return user


def test_merchant_saves_stripe_keys_and_tests_the_connection(page: Page, browser_session, merchant):
    log_in(page, merchant.email)
    page.get_by_role("link", name="Payment provider", exact=True).click()
    expect(page.get_by_role("heading", name="Payment settings", level=1)).to_be_visible()
    expect(page.locator("#payment-mode")).to_contain_text("TEST MODE")
    expect(page.get_by_role("button", name="Test connection")).to_have_count(0)  # no keys to test yet

    page.get_by_label("Payment provider").select_option("stripe")
    page.get_by_label("Publishable key").fill(PUBLISHABLE_KEY)
    page.get_by_label("Secret key").fill(SECRET_KEY)
    page.get_by_role("button", name="Save payment settings").click()
    expect(page.locator("#webhook_secret-error")).to_contain_text("Enter the webhook signing secret too")
    # The key inputs always come back empty, so a refused form never sends a secret back.
    expect(page.get_by_label("Secret key")).to_have_value("")

    page.get_by_label("Publishable key").fill(PUBLISHABLE_KEY)
    page.get_by_label("Secret key").fill(SECRET_KEY)
    page.get_by_label("Webhook signing secret").fill(STORE_WEBHOOK_SECRET)
    page.get_by_role("button", name="Save payment settings").click()
    expect(page.get_by_text("Payment settings saved.")).to_be_visible()
    summary = page.locator("#payment-summary")
    expect(summary).to_contain_text("sk_test_…ripe")
    expect(summary).not_to_contain_text(SECRET_KEY)

    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text("Connected to Stripe (test mode).")
    assert [error for error in browser_session.errors if "422" not in error] == []  # the refused save is a 422
