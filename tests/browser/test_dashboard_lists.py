"""The dashboard's lists in a real browser at a phone's, a tablet's and a desktop's width: the
page never scrolls sideways, and at desktop width every column of every table is in view (on
narrower screens a wide table scrolls inside its own labelled, focusable region).

Screenshots land in build/screenshots/lists-*.png for people to look at."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.chromium import SCREENSHOTS, log_in
from tests.factories import (
    credit_payment,
    make_attempt,
    make_checkout,
    make_coupon,
    make_customer,
    make_field,
    make_page,
    make_payment,
    make_store,
    make_user,
)
from checkie.checkout.lines import current_line
from checkie.payments.models import AttemptStatus, PaymentStatus
from checkie.webhooks import services as webhook_services
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1280)


@pytest.fixture
def busy_store(db):
    """A store whose lists hold long values: long emails, codes, labels and big amounts."""
    user = make_user(db, email="lena@example.com", name="Lena Paper", verified=True)
    store = make_store(db, owner=user, name="Paper & Ink Wholesale Stationery", slug="paper-ink")
    page = make_page(db, store, title="Hand-bound A5 notebook with a very long product title", amount=1_234_500)
    for n, label in enumerate(("Pick-up date at the counter", "Message written on the gift card", "Company VAT number")):
        make_field(db, page, label=label, key=f"field_with_a_long_key_{n}", type="text", required=n == 0)
    customer = make_customer(db, store, email="bartholomew.featherstonehaugh@very-long-company-name.example.com")
    for n in range(4):
        checkout = make_checkout(db, page, email=customer.email, name="Bartholomew Featherstonehaugh-Smythe")
        make_attempt(db, checkout, status=AttemptStatus.FAILED, failure_code="insufficient_funds")
        payment = make_payment(db, store, amount=1_234_500 + n, email=customer.email, customer=customer,
                               session=checkout, status=PaymentStatus.PARTIALLY_REFUNDED if n else PaymentStatus.SUCCEEDED,
                               refunded=1000 if n else 0, needs_review=n == 3, review_reason="amount_mismatch" if n == 3 else None)
        payment.line = current_line(db, checkout)  # as recorded when paid: the page's title shows
        credit_payment(db, store, payment)
    make_coupon(db, store, code="WELCOME-BACK-SPRING-2027", percent_off=15)
    endpoint = _webhook_endpoint_with_a_log(db, store)
    db.commit()
    return user, store, page, endpoint


def _webhook_endpoint_with_a_log(db, store) -> WebhookEndpoint:
    """An endpoint with a long URL and description, and deliveries in every status."""
    endpoint, _ = webhook_services.create_endpoint(
        db, store, url="https://orders.very-long-subdomain-of-the-company.example.com/integrations/checkie/webhooks/incoming",
        events=list(webhook_services.SUBSCRIBABLE_EVENTS), description="The fulfilment service of the warehouse in Rotterdam",
    )
    for n, status in enumerate((DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)):
        event = WebhookEvent(id=webhook_services.new_event_id(), store_id=store.id,
                             type="checkout.session.expired", data={"n": n})
        db.add(WebhookDelivery(event=event, endpoint_id=endpoint.id, status=status, attempts=n + 1, last_status_code=503))
    return endpoint


def _paths(store, page, endpoint) -> dict[str, str]:
    base = f"/dashboard/stores/{store.id}"
    return {
        "overview": base, "payments": f"{base}/payments", "sessions": f"{base}/sessions",
        "customers": f"{base}/customers", "coupons": f"{base}/coupons", "pages": f"{base}/pages",
        "fields": f"{base}/pages/{page.id}/custom-fields", "balance": f"{base}/balance",
        "webhooks": f"{base}/webhooks", "webhook-log": f"{base}/webhooks/{endpoint.id}",
    }


def _overflow(page: Page) -> int:
    page.wait_for_load_state("load")  # stylesheets in: an unstyled page is wider
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _hidden_columns(page: Page) -> list[str]:
    """Header cells not wholly in view without scrolling anything: neither inside the viewport nor
    inside a scrolling region the shopper can reach by keyboard."""
    return page.evaluate("""() => {
        const hidden = [];
        for (const th of document.querySelectorAll("main table th")) {
            const box = th.getBoundingClientRect();
            if (box.width === 0) continue;  // a visually hidden header
            const region = th.closest(".table-wrap");
            const clip = region ? region.getBoundingClientRect() : {left: 0, right: window.innerWidth};
            if (box.left < clip.left - 1 || box.right > clip.right + 1) hidden.push(th.textContent.trim());
        }
        return hidden;
    }""")


def _scroll_regions_are_reachable(page: Page) -> list[str]:
    """Every table region that does scroll: focusable and named, so keyboards can scroll it."""
    return page.evaluate("""() => [...document.querySelectorAll(".table-wrap")]
        .filter(r => r.scrollWidth > r.clientWidth + 1)
        .filter(r => r.tabIndex !== 0 || r.getAttribute("role") !== "region" || !r.getAttribute("aria-label"))
        .map(r => r.outerHTML.slice(0, 80))""")


@pytest.mark.parametrize("width", WIDTHS)
def test_dashboard_lists_fit_the_screen(new_page, browser_session, busy_store, width):
    user, store, catalog_page, endpoint = busy_store
    page = new_page(viewport={"width": width, "height": 900})
    log_in(page, user.email)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in _paths(store, catalog_page, endpoint).items():
        page.goto(path)
        page.screenshot(path=str(SCREENSHOTS / f"lists-{name}-{width}.png"), full_page=True)
        assert _overflow(page) <= 0, f"{name} scrolls sideways at {width}px"
        if width == 1280:
            assert _hidden_columns(page) == [], f"{name} hides columns at {width}px"
        assert _scroll_regions_are_reachable(page) == [], f"{name} at {width}px"
    assert browser_session.errors == []
