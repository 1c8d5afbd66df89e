"""A merchant adds a webhook endpoint pointing at their server (a receiver on 127.0.0.1: tests
allow private URLs), keeps the secret shown once, sends a test event, and sees it delivered in
the endpoint's log; the request their server got verifies with that secret."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.browser.chromium import log_in
from tests.factories import make_store, make_user
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant(db):
    user = make_user(db, email="ines@lanterns.example", verified=True)
    make_store(db, owner=user, name="Lantern Works", slug="lanterns")
    db.commit()
    return user


def test_merchant_adds_an_endpoint_sends_a_test_event_and_sees_it_delivered(page: Page, browser_session, merchant, receiver):
    log_in(page, merchant.email)
    page.get_by_role("link", name="Webhooks", exact=True).click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="No endpoints yet")).to_be_visible()
    page.get_by_role("button", name="Add endpoint", exact=True).click()  # a link styled as a button

    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("payment.completed").check()
    page.get_by_label("customer.created").check()
    page.get_by_label("Description").fill("Order fulfilment")
    page.get_by_role("button", name="Add endpoint").click()

    secret_box = page.get_by_role("textbox", name="Signing secret")
    expect(secret_box).to_have_value(re.compile(r"^whsec_"))
    expect(page.get_by_role("button", name="Copy to clipboard")).to_be_visible()
    secret = secret_box.input_value()

    page.get_by_role("button", name="Go to the endpoint").click()
    expect(page.get_by_text(receiver.url)).to_be_visible()
    expect(page.get_by_role("heading", name="No deliveries yet")).to_be_visible()
    page.get_by_role("button", name="Send test event").click()

    expect(page.get_by_role("status").filter(has_text="test event (ping) is on its way")).to_be_visible()
    row = page.get_by_role("region", name="Delivery log").get_by_role("row").filter(has_text="ping")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("200")

    (request,) = receiver.received
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "ping" and json.loads(request.body)["id"] == request.headers["webhook-id"]
    expect(row).to_contain_text(event["id"][:8])

    log = page.get_by_role("navigation", name="Show deliveries")
    log.get_by_role("button", name="Failed").click()
    expect(page.get_by_role("heading", name="No failed deliveries")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=failed"))
    page.get_by_role("navigation", name="Show deliveries").get_by_role("button", name="Succeeded").click()
    expect(row).to_contain_text("Succeeded")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Delivery of ping")).to_be_visible()
    expect(page.get_by_role("region", name="Attempts").get_by_role("row")).to_have_count(2)  # the header and one attempt
    expect(page.locator("pre code")).to_contain_text(f'"id": "{event["id"]}"')
    assert browser_session.errors == []
