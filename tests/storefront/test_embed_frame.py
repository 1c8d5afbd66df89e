"""The frame's side of the postMessage contract in Chromium (static/js/embed-frame.js): a host
page on another origin (a tiny server on 127.0.0.2; a page Playwright fulfils counts as public
and may not frame a loopback address) frames /embed/<id> from the live server
(127.0.0.1) and records what the frame posts. embed.js itself is tested in tests/browser."""
from __future__ import annotations

import re
import threading
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from checkie.payments.models import Payment
from tests.browser import chromium
from tests.factories import make_coupon, make_embed, make_shop

pytestmark = pytest.mark.browser
# tests/browser's fixtures (Chromium, the live server, pages that collect console errors).
browser, live_server = chromium.browser, chromium.live_server
browser_session, new_page = chromium.browser_session, chromium.new_page

#: The merchant's page: frames the checkout, keeps every message, sizes the iframe on resize.
HOST_PAGE = """<!doctype html><html><body><h1>Merchant</h1>
<iframe id="checkout" src="%(src)s" style="width:100%%;border:0" title="Checkout"></iframe>
<script>
  window.messages = [];
  addEventListener("message", function (event) {
    if (event.origin !== "%(checkie)s") return;
    window.messages.push(event.data);
    if (event.data.type === "checkie:resize") document.getElementById("checkout").style.height = event.data.payload.height + "px";
  });
</script></body></html>"""


@pytest.fixture(scope="module")
def host():
    """The merchant's site on 127.0.0.2: /shop serves HOST_PAGE framing `?src=`."""

    @Request.application
    def site(request: Request) -> Response:
        if request.path != "/shop":
            return Response(status=204)  # the favicon
        return Response(HOST_PAGE % {"src": request.args["src"], "checkie": request.args["checkie"]},
                        content_type="text/html")

    server = make_server("127.0.0.2", 0, site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def embed(db, store, host):
    page = make_shop(db, store).page
    make_coupon(db, store)  # SAVE10: 10 % off
    embed = make_embed(db, page, allowed_origins=[host])
    db.commit()
    return embed


def open_host(new_page, live_server, host, embed):
    page = new_page()
    src = live_server(f"/embed/{embed.public_id}?origin={host}")
    page.goto(f"{host}/shop?" + urlencode({"src": src, "checkie": live_server.url}))
    return page


def messages(page, kind: str) -> list[dict]:
    return [m for m in page.evaluate("window.messages") if m["type"] == kind]


def test_frame_posts_ready_resize_and_completed_to_the_host(new_page, live_server, browser_session, db, host, embed):
    page = open_host(new_page, live_server, host, embed)
    frame = page.frame_locator("#checkout")
    expect(frame.get_by_role("heading", name="T-shirt")).to_be_visible()
    page.wait_for_function("window.messages.some(m => m.type === 'checkie:resize')")
    ready = messages(page, "checkie:ready")
    assert ready and ready[0]["embedId"] == embed.public_id
    height = messages(page, "checkie:resize")[-1]["payload"]["height"]
    assert height > 600
    page.wait_for_function("document.getElementById('checkout').getBoundingClientRect().height > 600")

    frame.get_by_label("Company").fill("Initech")
    frame.get_by_label("Email").fill("sam@example.com")
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/34")
    frame.get_by_label("CVC").fill("123")
    frame.get_by_role("button", name="Pay").click()
    expect(frame.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    page.wait_for_function("window.messages.some(m => m.type === 'checkie:completed')")
    assert page.url.startswith(f"{host}/shop?")  # the host page stayed where it was

    completed = messages(page, "checkie:completed")[0]
    db.expire_all()
    payment = db.scalar(sa.select(Payment).where(Payment.page_id == embed.page_id))
    assert completed["payload"] == {"sessionId": payment.session_id, "paymentId": payment.id}
    assert completed["embedId"] == embed.public_id
    # The success view is shorter than the form: the frame shrinks with it.
    page.wait_for_function(f"document.getElementById('checkout').getBoundingClientRect().height < {height}")
    assert browser_session.errors == []


def test_frame_reports_a_declined_attempt_and_the_3ds_step(new_page, live_server, browser_session, host, embed):
    page = open_host(new_page, live_server, host, embed)
    frame = page.frame_locator("#checkout")
    frame.get_by_label("Company").fill("Initech")
    frame.get_by_label("Email").fill("sam@example.com")
    for number in ("4000 0000 0000 0002", "4000 0027 6000 3184"):
        frame.get_by_label("Card number").fill(number)
        frame.get_by_label("Expiry (MM/YY)").fill("12/34")
        frame.get_by_label("CVC").fill("123")
        frame.get_by_role("button", name="Pay").click()
        if number.endswith("0002"):
            expect(frame.get_by_text("Your card was declined.")).to_be_visible()
    expect(frame.get_by_role("heading", name="Authenticate this payment")).to_be_visible()
    page.wait_for_function("window.messages.some(m => m.type === 'checkie:awaiting_action')")
    assert messages(page, "checkie:attempt_failed")[0]["payload"] == {"code": "card_declined"}
    frame.get_by_role("button", name="Complete").click()
    expect(frame.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    page.wait_for_function("window.messages.some(m => m.type === 'checkie:completed')")
    assert browser_session.errors == []
