"""A shopper pays a store on Stripe in a real browser, against localstripe (tests/providers/localstripe.py):
the hosted checkout mounts localstripe's Stripe.js card Element, the card typed there becomes a
token (the only thing posted to Checkie), and the checkout completes; with the 3-D Secure card,
localstripe's authentication modal appears, and the session completes once Stripe's
payment_intent.succeeded has reached the live server's webhook intake. No console error (a CSP
violation is one) on the way.

The live server is the test's own app, in this process: it sees the config the `stripe_store`
fixture sets on `app.config`, and the rows the test commits."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from checkie.checkout.models import CheckoutSession, CheckoutState
from tests.factories import make_shop
from tests.providers.localstripe import STORE_WEBHOOK_SECRET

pytestmark = pytest.mark.browser

#: What Checkie applies from Stripe (SPEC §5).
EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
          "setup_intent.succeeded", "setup_intent.setup_failed"]
#: An event type Stripe never sends: localstripe cannot delete a webhook, so it is left listening to this.
NO_EVENT = "checkie.test_ended"
THANKS = "Thank you, your payment went through"


@pytest.fixture
def scoped_stripe_js(page: Page, localstripe):
    """localstripe's Stripe.js as served, run inside a function scope. It declares a top-level
    `class Element`, which in a classic script shadows the DOM's `Element` for every script of
    the page — htmx's `instanceof Element` checks then fail, and nothing htmx drives (the status
    block's polling, the summary's updates) happens. Real Stripe.js declares no such global; the
    script's own `Stripe = …` still makes the global Stripe, as it assigns an undeclared name."""
    url = f"{localstripe.api_base}/js.stripe.com/v3/"

    def wrap(route):
        served = route.fetch()
        route.fulfill(response=served, body="(function () {\n" + served.text() + "\n})();\n")

    page.route(url, wrap)
    return url


@pytest.fixture
def stripe_shop(db, stripe_store, localstripe, live_server, scoped_stripe_js):
    """The T-shirt on the Stripe store, and localstripe's webhooks sent to the live server for this test only."""
    make_shop(db, stripe_store)
    db.commit()
    localstripe.configure_webhook("checkie", url=live_server("/api/webhooks/stripe"), secret=STORE_WEBHOOK_SECRET,
                                  events=EVENTS)
    yield stripe_store
    localstripe.configure_webhook("checkie", url=live_server("/api/webhooks/stripe"), secret=STORE_WEBHOOK_SECRET,
                                  events=[NO_EVENT])


def _fill_in(page: Page, number: str) -> None:
    page.goto("/c/acme/tee")
    expect(page.get_by_role("group", name="Card details")).to_be_visible()
    expect(page.get_by_text("TEST MODE")).to_have_count(0)
    card = page.locator("#checkout-card-element")
    expect(card.get_by_placeholder("number")).to_be_visible()  # localstripe's Element, mounted by stripe-card.js
    page.get_by_label("Company").fill("Initech")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Name", exact=True).fill("Sam Shopper")
    card.get_by_placeholder("number").press_sequentially(number)
    card.get_by_placeholder("exp_month").press_sequentially("12")
    card.get_by_placeholder("exp_year").press_sequentially("30")  # localstripe's Element reads it as 2030
    card.get_by_placeholder("cvc").press_sequentially("123")
    card.get_by_placeholder("postal_code").press_sequentially("10001")


def _state(db, page: Page) -> CheckoutState:
    session_id = re.search(r"/c/s/(cs_[A-Za-z0-9_-]+)", page.url)[1]
    db.expire_all()
    return db.get(CheckoutSession, session_id).state


def test_a_shopper_pays_with_stripe_js_card_element(page: Page, db, stripe_shop, browser_session):
    _fill_in(page, "4242424242424242")
    page.get_by_role("button", name="Pay $20.00").click()
    expect(page.get_by_role("heading", level=1, name=THANKS)).to_be_visible()
    assert _state(db, page) is CheckoutState.COMPLETED
    assert browser_session.errors == []


def test_pay_without_a_card_shows_stripe_js_error_next_to_the_card(page: Page, db, stripe_shop, browser_session):
    page.goto("/c/acme/tee")
    expect(page.locator("#checkout-card-element").get_by_placeholder("number")).to_be_visible()
    page.get_by_label("Company").fill("Initech")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_role("button", name="Pay $20.00").click()
    expect(page.locator("#checkout-payment_method-error")).not_to_be_empty()
    expect(page).to_have_url(re.compile(r"/c/"))
    assert db.query(CheckoutSession).filter(CheckoutSession.state != CheckoutState.OPEN).count() == 0


def test_a_3d_secure_card_is_confirmed_in_localstripe_modal(page: Page, db, stripe_shop, browser_session):
    _fill_in(page, "4000002760003184")
    page.get_by_role("button", name="Pay $20.00").click()
    expect(page.get_by_role("heading", level=1, name="Confirm your payment")).to_be_visible()
    assert _state(db, page) is CheckoutState.AWAITING_ACTION
    page.get_by_role("button", name="Confirm payment").click()
    page.get_by_role("button", name="Complete authentication").click()
    # payment_intent.succeeded reaches Checkie (localstripe sends it after 1 s); the page polls and goes on.
    expect(page.get_by_role("heading", level=1, name=THANKS)).to_be_visible()
    assert _state(db, page) is CheckoutState.COMPLETED
    assert browser_session.errors == []
