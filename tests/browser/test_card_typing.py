"""The TEST MODE card form on a phone (issue 10, item 5): static/js/checkout.js spaces the number in
groups of four and puts the expiry's "/" in as digits are typed (numeric keypads have none),
keeping the caret where the shopper types or deletes; pasted values are tidied the same way; and
with JavaScript off the unformatted values still pay, while a past expiry is refused beside its field."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import MOBILE
from tests.factories import make_shop, make_store, make_user

pytestmark = pytest.mark.browser

THANKS = "Thank you, your payment went through"


@pytest.fixture(autouse=True)
def _shop(shop_page):
    """Every test here pays on Paper Crane's T-shirt page (tests/browser/conftest.py)."""
    return shop_page


def _open(page: Page) -> None:
    page.goto("/c/paper-crane/tee")
    expect(page.get_by_label("Card number")).to_be_visible()


def _caret(page: Page, label: str) -> int:
    return page.get_by_label(label).evaluate("input => input.selectionStart")


def test_the_card_number_is_grouped_in_fours_as_it_is_typed(new_page, browser_session):
    page = new_page(viewport=MOBILE)
    _open(page)
    number = page.get_by_label("Card number")
    expect(number).to_have_attribute("inputmode", "numeric")
    expect(number).to_have_attribute("autocomplete", "cc-number")
    number.press_sequentially("424242424")
    expect(number).to_have_value("4242 4242 4")
    number.press_sequentially("2424242")
    expect(number).to_have_value("4242 4242 4242 4242")
    # Backspace just after a space removes the digit before it, and the caret stays there.
    number.evaluate("input => input.setSelectionRange(5, 5)")
    number.press("Backspace")
    expect(number).to_have_value("4244 2424 2424 242")
    assert _caret(page, "Card number") == 3
    # A digit typed in the middle lands at the caret; the caret follows it past the regrouping.
    number.press("2")
    expect(number).to_have_value("4242 4242 4242 4242")
    assert _caret(page, "Card number") == 5
    number.fill("")
    page.keyboard.insert_text("4000002760003184")  # as a paste arrives
    expect(number).to_have_value("4000 0027 6000 3184")
    assert browser_session.errors == []


def test_the_expiry_gets_its_slash_as_digits_are_typed(new_page, browser_session):
    page = new_page(viewport=MOBILE)
    _open(page)
    expiry = page.get_by_label("Expiry (MM/YY)")
    expect(expiry).to_have_attribute("inputmode", "numeric")
    expect(expiry).to_have_attribute("autocomplete", "cc-exp")
    expiry.press_sequentially("12")
    expect(expiry).to_have_value("12/")
    expiry.press_sequentially("30")
    expect(expiry).to_have_value("12/30")
    for value in ("12/3", "12", "1"):
        expiry.press("Backspace")
        expect(expiry).to_have_value(value)
    expiry.fill("")
    expiry.press_sequentially("4")  # no month starts with 4: April
    expect(expiry).to_have_value("04/")
    expiry.press_sequentially("31")
    expect(expiry).to_have_value("04/31")
    expiry.fill("")
    expiry.press_sequentially("13")  # no 13th month: January of '3x
    expect(expiry).to_have_value("01/3")
    for pasted, shown in (("12/30", "12/30"), ("12/2030", "12/30"), ("1230", "12/30")):
        expiry.fill("")
        page.keyboard.insert_text(pasted)
        expect(expiry).to_have_value(shown)
    assert browser_session.errors == []


def test_a_refused_card_comes_back_tidied_and_the_past_expiry_is_named(new_page, browser_session):
    page = new_page(viewport=MOBILE)
    _open(page)
    _fill_details(page)
    page.get_by_label("Card number").fill("4242424242424242")
    expiry = page.get_by_label("Expiry (MM/YY)")
    expiry.fill("0120")
    expect(expiry).to_have_value("01/20")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.locator("#checkout-card_expiry-error")).to_have_text("Your card has expired.")
    expect(page.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    expect(expiry).to_have_value("01/20")
    assert [error for error in browser_session.errors if "422" not in error] == []


def _fill_details(page: Page) -> None:
    page.get_by_label("Company").fill("Initech")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("CVC").fill("123")


def test_without_javascript_typed_digits_pay_and_a_past_expiry_is_refused(new_page, browser_session):
    page = new_page(viewport=MOBILE, java_script_enabled=False)
    _open(page)
    _fill_details(page)
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_label("Expiry (MM/YY)").fill("0120")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expiry = page.get_by_label("Expiry (MM/YY)")
    expect(expiry).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#checkout-card_expiry-error")).to_have_text("Your card has expired.")
    assert [error for error in browser_session.errors if "422" not in error] == []  # the refusal is a 422
    browser_session.errors.clear()

    _fill_details(page)
    page.get_by_label("Card number").fill("4242424242424242")
    expiry.fill("1230")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.get_by_role("heading", level=1, name=THANKS)).to_be_visible()
    assert browser_session.errors == []
