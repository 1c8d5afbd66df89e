"""A merchant refunds part of a payment from its page in the dashboard (the amount prefilled with
what is left, a reason, the confirmation dialog), sees the refund listed there and in the store's
refunds list, and the payment marked partially refunded."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import log_in
from tests.factories import credit_payment, make_payment, make_store, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def paid(db):
    user = make_user(db, email="rosa@pottery.example", verified=True)
    store = make_store(db, owner=user, name="Rosa's Pottery", slug="pottery")
    payment = make_payment(db, store, amount=8_000, email="shopper@example.com")
    credit_payment(db, store, payment)
    db.commit()
    return user, payment


def test_merchant_refunds_part_of_a_payment_and_sees_it_listed(page: Page, browser_session, paid):
    merchant, payment = paid
    log_in(page, merchant.email)
    page.get_by_role("link", name="Payments", exact=True).click()
    page.get_by_role("link", name=f"#{payment.id}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Payment #{payment.id}")).to_be_visible()

    amount = page.get_by_label("Amount to refund")
    expect(amount).to_have_value("80.00")
    amount.fill("25.00")
    page.get_by_label("Reason").select_option(label="Duplicate payment")
    page.get_by_label("Note (for your records)").fill("Charged twice at the fair")
    page.get_by_role("button", name="Refund", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Refund", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="$25.00 was refunded")).to_be_visible()
    refunds = page.get_by_role("region", name="Refunds")
    row = refunds.get_by_role("row").filter(has_text="Duplicate")
    expect(row).to_contain_text("$25.00")
    expect(row).to_contain_text("Succeeded")
    expect(page.get_by_text("Partially refunded")).to_be_visible()
    expect(page.get_by_label("Amount to refund")).to_have_value("55.00")

    page.get_by_role("navigation", name="Rosa's Pottery").get_by_role("link", name="Payments", exact=True).click()
    page.get_by_role("button", name="Refunds").click()  # a link styled as a button
    expect(page.get_by_role("heading", name="Refunds", level=1)).to_be_visible()
    listed = page.get_by_role("region", name="Refunds").get_by_role("row").filter(has_text="Charged twice at the fair")
    expect(listed).to_contain_text(f"#{payment.id}")
    expect(listed).to_contain_text("$25.00")
    assert browser_session.errors == []
