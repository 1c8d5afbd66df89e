"""The dashboard shell in a real browser: responsive layout, keyboard access, dropdown menus,
copy buttons and confirmations (static/js/app.js), and no CSP violations along the way.

Screenshots of the main screens at both sizes are written to build/screenshots/layout-*.png
for people to look at; the assertions below are what the tests hold to."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import DESKTOP, MOBILE, SCREENSHOTS, log_in
from tests.factories import DEFAULT_PASSWORD, make_store, make_user

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": DESKTOP, "mobile": MOBILE}


@pytest.fixture
def merchant(db):
    user = make_user(db, email="lena@example.com", name="Lena Paper", verified=True)
    store = make_store(db, owner=user, name="Paper & Ink", slug="paper-ink")
    db.commit()
    return user, store


def _box(page: Page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not rendered"
    return box


def _no_sideways_scroll(page: Page) -> None:
    # A page reached by a click is measured only once its stylesheets are in: before the load
    # event, a slow CSS response leaves the unstyled page, hundreds of pixels too wide.
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_shell_fits_the_screen_and_marks_where_you_are(new_page, browser_session, merchant, size):
    user, store = merchant
    page = new_page(viewport=VIEWPORTS[size])
    page.goto("/login")
    _no_sideways_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"layout-login-{size}.png"), full_page=True)

    log_in(page, user.email)
    expect(page).to_have_url(re.compile(r"/dashboard/stores/\d+$"))
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    store_nav = page.get_by_role("navigation", name=store.name)
    expect(store_nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    _no_sideways_scroll(page)

    nav, main = _box(page, "nav.sidebar"), _box(page, "main")  # measured after the load above
    soon = store_nav.locator(".nav-soon")  # areas still to come: quiet entries, not links
    if size == "desktop":
        assert nav["x"] + nav["width"] <= main["x"] + 1, "the store navigation should sit beside the content"
        for index in range(soon.count()):
            expect(soon.nth(index)).to_be_visible()
    else:
        assert nav["y"] + nav["height"] <= main["y"] + 1, "the store navigation should sit above the content"
        assert nav["height"] < 80, "on a phone the store navigation is one scrolling row"
        for index in range(soon.count()):
            expect(soon.nth(index)).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / f"layout-overview-{size}.png"), full_page=True)

    store_nav.get_by_role("link", name="Team").click()
    expect(store_nav.get_by_role("link", name="Team")).to_have_attribute("aria-current", "page")
    expect(store_nav.get_by_role("link", name="Overview")).not_to_have_attribute("aria-current", "page")
    _no_sideways_scroll(page)
    assert browser_session.errors == []


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page, browser_session, merchant):
    user, _ = merchant
    log_in(page, user.email)
    expect(page).to_have_url(re.compile(r"/dashboard/stores/\d+$"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert browser_session.errors == []


def test_dropdown_menus_close_on_escape_and_on_a_click_elsewhere(page, browser_session, merchant):
    user, store = merchant
    log_in(page, user.email)
    expect(page).to_have_url(re.compile(r"/dashboard/stores/\d+$"))
    switcher = page.locator("details.store-switcher")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name=re.compile(store.name))).to_be_visible()
    expect(switcher.get_by_role("link", name="+ New store")).to_be_visible()
    page.keyboard.press("Escape")
    expect(switcher).not_to_have_attribute("open", "")
    expect(switcher.locator("summary")).to_be_focused()

    menu = page.locator("details.user-menu")
    menu.locator("summary").click()
    expect(menu.get_by_role("button", name="Log out")).to_be_visible()
    page.mouse.click(640, 700)
    expect(menu).not_to_have_attribute("open", "")
    assert browser_session.errors == []


def test_new_api_key_copies_to_the_clipboard_and_revoking_asks_first(new_page, browser_session, merchant):
    user, store = merchant
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, user.email)
    expect(page).to_have_url(re.compile(r"/dashboard/stores/\d+$"))
    page.get_by_role("navigation", name=store.name).get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("Website backend")
    page.get_by_role("button", name="Create test key").click()

    key = page.get_by_label("API key")
    expect(key).to_have_value(re.compile(r"^ck_test_"))
    page.get_by_role("button", name="Copy to clipboard").click()
    expect(page.get_by_role("button", name="Copy to clipboard")).to_have_text("Copied")
    expect(page.get_by_role("status").filter(has_text="Copied to the clipboard")).to_be_attached()
    assert page.evaluate("navigator.clipboard.readText()") == key.input_value()

    row = page.get_by_role("row").filter(has_text="Website backend")
    native_dialogs: list[str] = []
    page.on("dialog", lambda dialog: (native_dialogs.append(dialog.message), dialog.dismiss()))
    revoke = row.get_by_role("button", name="Revoke Website backend")
    revoke.click()
    question = page.get_by_role("dialog", name=re.compile("Revoke “Website backend”"))
    expect(question).to_be_visible()
    expect(question.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(revoke).to_be_focused()
    expect(row).to_contain_text("Active")  # cancelled: nothing was sent

    revoke.click()
    question.get_by_role("button", name="Cancel").click()
    expect(row).to_contain_text("Active")

    revoke.click()
    question.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row").filter(has_text="Website backend")).to_contain_text("Revoked")
    assert native_dialogs == [] and browser_session.errors == []
