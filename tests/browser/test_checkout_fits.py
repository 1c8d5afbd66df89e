"""The checkout never scrolls sideways (issue 10, item 7): on a phone, a tablet and a desktop, the
hosted page (variants, custom fields, the coupon box and the TEST MODE card form, plus a long
unbroken word in the description) and the same checkout inside an inline embed's iframe on a
merchant's site are no wider than the window they are shown in."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from checkie.catalog.embeds import create_embed, embed_code
from tests.factories import make_shop, make_store, make_user

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1280)
LONG_WORD = "Handmade" + "x" * 120
#: How far the document reaches past the window's right edge (CSS pixels; ≤ 0 fits).
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def shop_page(db):
    store = make_store(db, owner=make_user(db), name="Paper Crane", slug="paper-crane")
    page = make_shop(db, store, description=f"Soft organic cotton. {LONG_WORD}").page
    db.commit()
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_the_hosted_checkout_fits_the_window(new_page, browser_session, shop_page, width):
    page: Page = new_page(viewport={"width": width, "height": 900})
    page.goto("/c/paper-crane/tee")
    expect(page.get_by_label("Coupon code")).to_be_visible()
    expect(page.get_by_label("Card number")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate(OVERFLOW) <= 0
    assert browser_session.errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_inline_embed_fits_its_frame_and_the_shop(db, new_page, browser_session, host_sites, live_server,
                                                      shop_page, width):
    embed = create_embed(db, shop_page, type="inline")
    db.commit()
    page: Page = new_page(viewport={"width": width, "height": 900})
    page.goto(host_sites("127.0.0.2").add("/", embed_code(embed, live_server.url)))
    frame = page.frame_locator("[data-checkie-embed] iframe")
    expect(frame.get_by_label("Card number")).to_be_visible()
    inner = page.locator("[data-checkie-embed] iframe").element_handle().content_frame()
    inner.wait_for_load_state("load")
    assert inner.evaluate(OVERFLOW) <= 0
    page.wait_for_load_state("load")
    assert page.evaluate(OVERFLOW) <= 0
    assert browser_session.errors == []
