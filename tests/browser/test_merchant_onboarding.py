"""A new merchant's first minutes, end to end in a real browser: sign up, confirm the emailed
link, log in, open a store, invite a colleague, log out. Found by labels and roles, as a
person (or a screen reader) finds things."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from tests.browser.chromium import log_in

pytestmark = pytest.mark.browser

EMAIL = "mia@moonlight.example"
PASSWORD = "velvet anchor lantern 42"
INVITEE = "sam@moonlight.example"


def _register(page: Page) -> None:
    page.goto("/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Your name").fill("Mia Moon")
    page.get_by_label("Work email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()


def _confirmation_path(page: Page) -> str:
    """Read the confirmation email in the dev mailbox; its link points at APP_URL, so keep the path."""
    page.get_by_role("button", name="Open the dev mailbox").click()
    expect(page.get_by_role("heading", name="Dev mailbox")).to_be_visible()
    page.get_by_role("row").filter(has_text=EMAIL).get_by_role("link").first.click()
    link = page.get_by_role("link", name=re.compile("verify-email"))
    expect(link).to_have_count(1)
    return urlsplit(link.get_attribute("href")).path


def _log_out(page: Page) -> None:
    page.locator("details.user-menu > summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You have been logged out")).to_be_visible()


def test_merchant_signs_up_opens_a_store_and_invites_a_colleague(page: Page, browser_session):
    _register(page)
    confirm = _confirmation_path(page)
    assert confirm.startswith("/verify-email/")

    page.goto(confirm)
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_role("status").filter(has_text="email address is confirmed")).to_be_visible()

    # Confirming signs the merchant in; log out and come back through the log-in form.
    _log_out(page)
    log_in(page, EMAIL, PASSWORD)
    expect(page.get_by_role("heading", name="Create your first store")).to_be_visible()

    page.get_by_role("button", name="Create your first store").click()
    expect(page.get_by_role("heading", name="New store")).to_be_visible()
    page.get_by_label("Store name").fill("Moonlight Candles")
    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_role("heading", level=1, name="Moonlight Candles")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard/stores/\d+$"))  # the new store's page, not …/new
    expect(page.get_by_role("status").filter(has_text="Moonlight Candles is ready")).to_be_visible()

    store_nav = page.get_by_role("navigation", name="Moonlight Candles")
    expect(store_nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    store_nav.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1, name="Team")).to_be_visible()
    expect(store_nav.get_by_role("link", name="Team")).to_have_attribute("aria-current", "page")

    page.get_by_label("Email address").fill(INVITEE)
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").filter(has_text=f"Invitation sent to {INVITEE}")).to_be_visible()
    invitation = page.get_by_role("row").filter(has_text=INVITEE)
    expect(invitation).to_be_visible()
    expect(invitation).to_contain_text("Invited")

    _log_out(page)
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next="))

    assert browser_session.errors == []
