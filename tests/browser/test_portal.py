"""Issue 14 in a real browser: a customer with a subscription (and so its first payment) asks
for a sign-in link on the store's portal, opens it from the email (read from the outbox row:
the dev mailbox is the merchant's), signs in with the button, opens a receipt, cancels the
subscription at the end of its period, and signs out."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from checkie.notifications.models import EmailMessage
from tests.factories import make_store, make_user
from tests.subscription_factories import subscribe

pytestmark = pytest.mark.browser

CUSTOMER = "kim@example.com"


@pytest.fixture
def roastery(db):
    store = make_store(db, owner=make_user(db, email="rosa@roastery.example"), name="Rosa's Roastery", slug="roastery")
    store.brand_color = "#8a4b2a"
    db.commit()
    return subscribe(db, store, title="Coffee Club", amount=900, email=CUSTOMER)


def emailed_link(db) -> str:
    """The path of the sign-in link in the newest email to the customer."""
    db.expire_all()
    body = db.scalar(sa.select(EmailMessage.text_body).where(EmailMessage.to_address == CUSTOMER,
                                                             EmailMessage.kind == "portal_link")
                     .order_by(EmailMessage.id.desc()).limit(1))
    match = re.search(r"/portal/verify/[A-Za-z0-9_-]+", body or "")
    assert match, body
    return match.group(0)


def test_a_customer_signs_in_by_email_opens_a_receipt_cancels_and_signs_out(page: Page, browser_session, db, roastery):
    page.goto("/portal/roastery/")
    expect(page.get_by_role("heading", level=1, name="Sign in to Rosa's Roastery")).to_be_visible()
    page.get_by_label("Email address").fill(CUSTOMER)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_text(f"If {CUSTOMER} bought from Rosa's Roastery, a sign-in link is on its way.")).to_be_visible()

    page.goto(emailed_link(db))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/portal/roastery/home$"))
    subscriptions = page.locator("section[aria-labelledby=subscriptions-heading]")
    expect(subscriptions).to_contain_text("Coffee Club")
    expect(subscriptions).to_contain_text("$9.00 every month")

    page.locator("section[aria-labelledby=purchases-heading]").get_by_role("link", name=re.compile("Receipt")).first.click()
    expect(page.get_by_role("heading", level=1, name="Receipt")).to_be_visible()
    expect(page.locator("#main")).to_contain_text("$9.00")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    page.get_by_role("link", name="← Your account").click()

    page.get_by_role("link", name="Coffee Club").click()
    page.get_by_text("Cancel my subscription").click()
    page.get_by_label("Why are you cancelling? (optional)").select_option(label="I no longer need it")
    page.get_by_role("button", name="Yes, cancel at the end of the period").click()
    expect(page.get_by_role("status").filter(has_text="Your subscription is cancelled")).to_be_visible()
    expect(page.get_by_role("button", name="Keep my subscription")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="You are signed out.")).to_be_visible()
    page.goto("/portal/roastery/home")
    expect(page.get_by_role("heading", level=1, name="Sign in to Rosa's Roastery")).to_be_visible()
