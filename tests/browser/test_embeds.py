"""Embeds on a merchant's own site, in Chromium: the shop is served from http://127.0.0.2:<port>
and Checkie from http://127.0.0.1:<port>, so the checkout iframe is cross-origin as in real
life. The merchant pastes `embed_code(…)`; `static/embed.js` builds the iframe or the button and
re-emits the frame's messages as DOM events, which the shop's own script records in
`window.__events` (tests/browser/host_site.py)."""
from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from playwright.sync_api import FrameLocator, Page, expect

from checkie.catalog.embeds import create_embed, embed_code
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.payments.models import Payment
from tests.factories import make_coupon, make_shop, make_store, make_user

pytestmark = pytest.mark.browser

THANKS = "Thank you, your payment went through"


def _embed(db, page, **options):
    embed = create_embed(db, page, **options)
    db.commit()
    return embed


def _events(page: Page, type: str | None = None) -> list[dict]:
    events = page.evaluate("window.__events")
    return [event for event in events if type is None or event["type"] == type]


def _wait_for_event(page: Page, type: str, embed_id: str) -> dict:
    page.wait_for_function(
        "([type, id]) => window.__events.some(e => e.type === type && e.embed === id)", arg=[type, embed_id]
    )
    return [event for event in _events(page, type) if event["embed"] == embed_id][-1]


def _buy(frame: FrameLocator, *, email: str, card: str) -> None:
    expect(frame.get_by_role("heading", level=1, name="T-shirt")).to_be_visible()
    frame.get_by_label("Company").fill("Initech")
    frame.get_by_label("Email").fill(email)
    frame.get_by_label("Card number").fill(card)
    frame.get_by_label("Expiry (MM/YY)").fill("12/34")
    frame.get_by_label("CVC").fill("123")
    frame.get_by_role("button", name="Pay").click()


def _check_completed(db, event: dict, *, embed_id: str, email: str) -> None:
    db.expire_all()
    session = db.scalars(sa.select(CheckoutSession).where(CheckoutSession.email == email)).one()
    payment = db.scalars(sa.select(Payment).where(Payment.session_id == session.id)).one()
    assert session.state is CheckoutState.COMPLETED
    assert session.client_info.get("embedId") == embed_id
    assert event["detail"]["sessionId"] == session.id
    assert str(event["detail"]["paymentId"]) == str(payment.id)


def _focus_in_dialog(page: Page) -> bool:
    """Whether the keyboard focus is in the open dialog: on one of its host elements, or inside
    its (cross-origin) iframe. Chromium moves focus between processes asynchronously, and the
    host's activeElement may lag behind for a moment, so this polls briefly."""
    frame = page.locator("[role=dialog] iframe").element_handle().content_frame()
    deadline = time.monotonic() + 2
    while True:
        if page.evaluate("document.querySelector('[role=dialog]').contains(document.activeElement)"):
            return True
        if frame.evaluate("document.hasFocus()"):
            return True
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(50)


def _assert_refused(page: Page, browser_session, *, url_part: str) -> None:
    """The iframe on `page` is blocked by the browser: an error mentions frame-ancestors (or
    X-Frame-Options) and no frame of the page shows the checkout form."""
    deadline = time.monotonic() + 10
    while not any(re.search("frame-ancestors|X-Frame-Options", error) for error in browser_session.errors):
        assert time.monotonic() < deadline, f"no framing error for {url_part}: {browser_session.errors}"
        page.wait_for_timeout(100)
    assert any("frame-ancestors" in error for error in browser_session.errors), browser_session.errors
    for frame in page.frames:
        assert frame.locator("#checkout-email, form").count() == 0, f"{frame.url} rendered inside the frame"


def test_inline_embeds_resize_and_one_completes_a_purchase(
    db, page, host_sites, live_server, shop_page, browser_session
):
    first = _embed(db, shop_page, type="inline")
    second = _embed(db, shop_page, type="inline")
    shop = host_sites("127.0.0.2")
    # Two snippets, so embed.js is included twice: both embeds still work, independently.
    url = shop.add("/", embed_code(first, live_server.url) + "\n<hr>\n" + embed_code(second, live_server.url))
    page.goto(url)

    frames = page.locator("[data-checkie-embed] iframe")
    expect(frames).to_have_count(2)
    iframe = page.locator(f'[data-checkie-embed="{first.public_id}"] iframe')
    expect(iframe).to_have_attribute("title", re.compile(r"\S"))
    expect(iframe).to_have_attribute("src", f"{live_server.url}/embed/{first.public_id}?origin={quote(shop.origin, safe='')}")
    _wait_for_event(page, "checkie:resize", first.public_id)
    _wait_for_event(page, "checkie:ready", second.public_id)
    # The frame starts at embed.js's default height, then follows the last checkie:resize.
    page.wait_for_function(
        """id => {
          const sizes = window.__events.filter(e => e.type === "checkie:resize" && e.embed === id);
          const frame = document.querySelector(`[data-checkie-embed="${id}"] iframe`);
          return sizes.length && frame.style.height === sizes[sizes.length - 1].detail.height + "px";
        }""",
        arg=first.public_id,
    )
    assert iframe.evaluate("f => f.getBoundingClientRect().height") > 100
    assert iframe.evaluate("f => getComputedStyle(f).borderTopWidth") == "0px"
    assert iframe.evaluate("f => f.getBoundingClientRect().width") == page.locator(
        f'[data-checkie-embed="{first.public_id}"]').evaluate("e => e.getBoundingClientRect().width")

    frame = page.frame_locator(f'[data-checkie-embed="{first.public_id}"] iframe')
    _buy(frame, email="sam@example.com", card="4242 4242 4242 4242")
    expect(frame.get_by_role("heading", level=1, name=THANKS)).to_be_visible()

    completed = _wait_for_event(page, "checkie:completed", first.public_id)
    _check_completed(db, completed, embed_id=first.public_id, email="sam@example.com")
    assert [e for e in _events(page, "checkie:completed") if e["embed"] == second.public_id] == []
    assert page.url == url, "the shop page itself never navigates"
    assert browser_session.errors == []


def test_button_embed_opens_an_accessible_overlay_and_completes_3d_secure(
    db, page, host_sites, live_server, shop_page, browser_session
):
    embed = _embed(db, shop_page, type="button", button_text="Buy the T-shirt")
    shop = host_sites("127.0.0.2")
    page.goto(shop.add("/", embed_code(embed, live_server.url)))

    button = page.get_by_role("button", name="Buy the T-shirt")
    expect(button).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)  # created when the overlay first opens

    button.click()
    dialog = page.get_by_role("dialog", name="Buy the T-shirt")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    assert page.evaluate("document.documentElement.style.overflow") == "hidden"
    expect(dialog.locator("iframe")).to_have_attribute("title", re.compile(r"\S"))

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    _wait_for_event(page, "checkie:closed", embed.public_id)
    expect(button).to_be_focused()
    assert page.evaluate("document.documentElement.style.overflow") == ""

    button.press("Enter")
    expect(dialog).to_be_visible()
    expect(page.locator("iframe")).to_have_count(1)  # the same frame (and session) again
    # The keys below go into the frame: only once it says it is ready. Tabbing into a frame still
    # loading can leave Chromium's focus split between the host (its body) and the frame, and keys
    # and fills then reach the host: Escape still closes (the host's handler), but every fill is lost.
    _wait_for_event(page, "checkie:ready", embed.public_id)
    # Focus stays in the dialog whichever way the shopper tabs (into the frame and out again).
    page.keyboard.press("Shift+Tab")
    assert _focus_in_dialog(page)
    for _ in range(25):
        page.keyboard.press("Tab")
        assert _focus_in_dialog(page)

    frame = page.frame_locator("[role=dialog] iframe")
    # Escape pressed inside the (cross-origin) frame closes the overlay too.
    frame.get_by_label("Email").focus()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    button.click()
    expect(dialog).to_be_visible()

    _buy(frame, email="kim@example.com", card="4000 0027 6000 3184")
    _wait_for_event(page, "checkie:awaiting_action", embed.public_id)
    frame.get_by_role("button", name="Complete").click()
    expect(frame.get_by_role("heading", level=1, name=THANKS)).to_be_visible()
    completed = _wait_for_event(page, "checkie:completed", embed.public_id)
    _check_completed(db, completed, embed_id=embed.public_id, email="kim@example.com")
    assert browser_session.errors == []


def test_the_frame_is_ready_only_once_its_script_handles_keys(
    db, page, host_sites, live_server, shop_page, browser_session
):
    """checkie:ready is what the host (and the test above) waits for before sending keys into the
    frame. The frame's form shows before its deferred script runs (held back here, as a busy
    server does): no ready then, and Escape in the frame would go unheard. Once ready, it is heard."""
    held = []
    page.route(re.compile(r"/static/js/embed-frame\.js"), lambda route: held.append(route))
    embed = _embed(db, shop_page, type="button", button_text="Buy the T-shirt")
    page.goto(host_sites("127.0.0.2").add("/", embed_code(embed, live_server.url)))

    with page.expect_request(re.compile(r"/static/js/embed-frame\.js")):
        page.get_by_role("button", name="Buy the T-shirt").click()
    frame = page.frame_locator("[role=dialog] iframe")
    expect(frame.get_by_label("Email")).to_be_visible()
    assert _events(page, "checkie:ready") == []

    held.pop().continue_()
    _wait_for_event(page, "checkie:ready", embed.public_id)
    frame.get_by_label("Email").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert browser_session.errors == []


def test_an_embed_with_allowed_origins_renders_only_there(
    db, new_page, host_sites, live_server, shop_page, browser_session
):
    shop = host_sites("127.0.0.2")
    elsewhere = host_sites("127.0.0.3")
    embed = _embed(db, shop_page, type="inline", allowed_origins=[shop.origin])
    snippet = embed_code(embed, live_server.url)

    allowed = new_page()
    allowed.goto(shop.add("/", snippet))
    frame = allowed.frame_locator("[data-checkie-embed] iframe")
    expect(frame.get_by_role("heading", level=1, name="T-shirt")).to_be_visible()
    expect(frame.get_by_label("Email")).to_be_visible()
    _wait_for_event(allowed, "checkie:ready", embed.public_id)
    assert not [error for error in browser_session.errors if "frame-ancestors" in error]

    # Elsewhere, the frame says so in a sentence and links to the hosted checkout (no broken frame).
    refused = new_page()
    refused.goto(elsewhere.add("/", snippet))
    expect(refused.locator("[data-checkie-embed] iframe")).to_have_count(1)
    frame = refused.frame_locator("[data-checkie-embed] iframe")
    expect(frame.get_by_role("heading", level=1, name="This checkout can’t be shown on this site.")).to_be_visible()
    link = frame.get_by_role("link", name="pay on the checkout page")
    expect(link).to_have_attribute("href", "/c/paper-crane/tee")
    expect(frame.get_by_label("Email")).to_have_count(0)
    # The one console line is the frame's 403: the merchant sees why in the developer tools too.
    assert [error for error in browser_session.errors if "403" not in error] == []
    assert _events(refused) == []
    link.click()
    expect(refused).to_have_url(re.compile(r"^" + re.escape(live_server.url) + r"/c/"))

    # A site that claims to be an allowed one still gets no checkout: the browser refuses the frame.
    lying = new_page()
    claimed = f"{live_server.url}/embed/{embed.public_id}?origin={quote(shop.origin, safe='')}"
    lying.goto(elsewhere.add("/lying", f'<iframe title="Checkout" src="{claimed}"></iframe>'))
    _assert_refused(lying, browser_session, url_part="/embed/")


@pytest.mark.parametrize("path", ["/c/paper-crane/tee", "/login"])
def test_pages_other_than_embeds_refuse_to_be_framed(page, host_sites, live_server, shop_page, browser_session, path):
    shop = host_sites("127.0.0.2")
    page.goto(shop.add("/", f'<iframe title="Checkout" src="{live_server.url}{path}"></iframe>'))
    _assert_refused(page, browser_session, url_part=path)
