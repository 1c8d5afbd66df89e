"""How embeds look (issue 10, item 8), in Chromium: the merchant's brand colour on the checkout's Pay
button inside the frame and in the dashboard's preview, the button embed styled on the merchant's
site by embed.js, and a dark overlay with no light band around the checkout. (A site the embed
does not allow: tests/browser/test_embeds.py.)"""
from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from checkie.catalog.embeds import create_embed, embed_code
from tests.factories import DEFAULT_PASSWORD, make_shop, make_store, make_user
from tests.browser.chromium import log_in

pytestmark = pytest.mark.browser

BRAND = "#d9480f"
BRAND_RGB = "rgb(217, 72, 15)"
PICO_INDIGO_RGB = "rgb(82, 78, 210)"


def _embed(db, page, **options):
    embed = create_embed(db, page, **options)
    db.commit()
    return embed


def _style(locator, name: str) -> str:
    return locator.evaluate("(element, name) => getComputedStyle(element)[name]", name)


def _pixel(page: Page, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen at (x, y): a 1×1 screenshot, whose one PNG row is the pixel itself
    whatever filter the encoder picked (every filter of a lone pixel predicts zero)."""
    png = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    chunks, position = {}, 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        chunks[kind] = chunks.get(kind, b"") + png[position + 8:position + 8 + length]
        position += 12 + length
    red, green, blue = zlib.decompress(chunks[b"IDAT"])[1:4]
    return red, green, blue


@pytest.mark.parametrize("theme", ["auto", "dark"])
def test_the_brand_colour_colours_the_pay_button_in_the_frame(db, page, host_sites, live_server, shop_page,
                                                             browser_session, theme):
    embed = _embed(db, shop_page, type="inline", theme=theme, brand_color=BRAND)
    page.goto(host_sites("127.0.0.2").add("/", embed_code(embed, live_server.url)))
    frame = page.frame_locator("[data-checkie-embed] iframe")
    pay = frame.get_by_role("button", name=re.compile("^Pay"))
    expect(pay).to_have_css("background-color", BRAND_RGB)
    expect(pay).to_have_css("color", "rgb(255, 255, 255)")
    assert browser_session.errors == []


def test_the_dashboard_preview_shows_the_brand_colour(db, page, browser_session, shop_page):
    _embed(db, shop_page, type="inline", theme="dark", brand_color=BRAND)
    _embed(db, shop_page, type="button", theme="light", brand_color="#ffd43b")
    _embed(db, shop_page, type="inline")
    log_in(page, "lea@papercrane.example")
    expect(page).to_have_url(re.compile(r"/dashboard/stores/\d+$"))
    page.goto(f"/dashboard/stores/{shop_page.store_id}/pages/{shop_page.id}/embeds")

    inline, plain = page.locator("[data-embed-preview=inline]").all()[-1], page.locator("[data-embed-preview=inline]").first
    expect(inline.get_by_role("button", name="Pay")).to_have_css("background-color", BRAND_RGB)
    expect(plain.get_by_role("button", name="Pay")).to_have_css("background-color", PICO_INDIGO_RGB)
    button = page.locator("[data-embed-preview=button]").get_by_role("button", name="Buy now")
    expect(button).to_have_css("background-color", "rgb(255, 212, 59)")
    expect(button).to_have_css("color", "rgb(0, 0, 0)")  # black reads better on yellow
    assert browser_session.errors == []


def test_the_button_embed_is_styled_in_the_brand_colour_and_the_site_can_restyle_it(
    db, page, host_sites, live_server, shop_page, browser_session
):
    branded = _embed(db, shop_page, type="button", button_text="Buy the T-shirt", brand_color=BRAND)
    plain = _embed(db, shop_page, type="button", button_text="Buy it plain")
    light = _embed(db, shop_page, type="button", button_text="Buy it in yellow", brand_color="#ffd43b")
    site_css = "<style>.restyled .checkie-button { border-radius: 0; }</style>"
    snippets = [embed_code(embed, live_server.url) for embed in (branded, plain, light)]
    page.goto(host_sites("127.0.0.2").add("/", site_css + snippets[0] + f'<div class="restyled">{snippets[1]}</div>'
                                           + snippets[2]))

    button = page.get_by_role("button", name="Buy the T-shirt")
    expect(button).to_have_class("checkie-button")
    expect(button).to_have_css("background-color", BRAND_RGB)
    expect(button).to_have_css("color", "rgb(255, 255, 255)")
    assert _style(button, "borderRadius") == "6px" and _style(button, "borderTopWidth") == "0px"
    assert float(_style(button, "paddingLeft").removesuffix("px")) >= 16
    restyled = page.get_by_role("button", name="Buy it plain")
    expect(restyled).to_have_css("background-color", PICO_INDIGO_RGB)
    assert _style(restyled, "borderRadius") == "0px", "the site's own rule wins"
    expect(page.get_by_role("button", name="Buy it in yellow")).to_have_css("color", "rgb(0, 0, 0)")
    assert page.locator("style").count() == 2, "embed.js adds its stylesheet once"
    assert browser_session.errors == []


def test_the_dark_overlay_shows_no_light_band_around_the_checkout(
    db, page, host_sites, live_server, shop_page, browser_session
):
    embed = _embed(db, shop_page, type="button", theme="dark", button_text="Buy the T-shirt")
    page.goto(host_sites("127.0.0.2").add("/", embed_code(embed, live_server.url)))
    page.get_by_role("button", name="Buy the T-shirt").click()
    page.wait_for_function(
        "id => window.__events.some(e => e.type === 'checkie:ready' && e.embed === id)", arg=embed.public_id
    )
    frame = page.frame_locator("[role=dialog] iframe")
    expect(frame.get_by_label("Email")).to_be_visible()
    box = page.locator("[role=dialog] iframe").bounding_box()
    # Just inside the frame's edges: its page's padding, around the checkout's card.
    for x, y in ((box["x"] + 3, box["y"] + 3), (box["x"] + box["width"] - 4, box["y"] + 40)):
        assert max(_pixel(page, x, y)) < 80, f"light pixel at {x},{y}: {_pixel(page, x, y)}"
    assert browser_session.errors == []
