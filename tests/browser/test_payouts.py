"""A merchant with money in the balance saves their bank account and requests a payout from the
dashboard; the payout task pays it, and the payout's page says so."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from checkie.payments.models import TransactionType
from checkie.providers.test_payouts import PAID_ACCOUNT, TEST_ROUTING_NUMBER
from tests.browser.chromium import log_in
from tests.factories import add_ledger_entry, make_store, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant(db):
    user = make_user(db, email="ines@lanterns.example", verified=True)
    store = make_store(db, owner=user, name="Lantern Works", slug="lanterns")
    add_ledger_entry(db, store, "USD", TransactionType.PAYMENT, 25_000)
    db.commit()
    return user


def test_merchant_saves_a_bank_account_requests_a_payout_and_sees_it_paid(page: Page, browser_session, merchant):
    log_in(page, merchant.email)
    page.get_by_role("link", name="Payouts", exact=True).click()
    expect(page.get_by_role("heading", name="Payouts", level=1)).to_be_visible()
    expect(page.get_by_text("No bank account yet")).to_be_visible()

    page.get_by_label("Account holder name").fill("Ines Lantern")
    page.get_by_label("Routing number").fill(TEST_ROUTING_NUMBER)
    page.get_by_label("Account number").fill(PAID_ACCOUNT)
    page.get_by_role("button", name="Save bank account").click()
    expect(page.get_by_text("The bank account was saved.")).to_be_visible()
    expect(page.locator("#payout-account")).to_contain_text("ending in 6789")

    page.get_by_label("Amount").fill("120.00")
    page.get_by_role("button", name="Request payout").click()

    expect(page.get_by_role("heading", name="Payout #1", level=1)).to_be_visible()
    expect(page.locator("#payout-status")).to_have_text("Paid")
    page.get_by_role("link", name="Payouts", exact=True).first.click()
    expect(page.get_by_text("$130.00")).to_be_visible()
    expect(page.get_by_role("region", name="Payouts").get_by_role("row").filter(has_text="Payout #1")).to_contain_text("Paid")
