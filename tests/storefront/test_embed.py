"""The framed checkout over HTTP (storefront/checkout.py in its Frame layout): every step without
a cookie, the frame-ancestors policy, the host origin that rides along, and the view counted."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.catalog.embeds import create_embed
from checkie.catalog.models import PageStats
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.payments.models import Payment, PaymentAttempt
from tests.factories import make_coupon, make_shop, open_checkout

HTMX = {"HX-Request": "true"}
VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
THREE_D_SECURE = "4000 0027 6000 3184"
HOST = "https://shop.example"
SESSION_ID = re.compile(r'data-session-id="(cs_[A-Za-z0-9_-]+)"')


@pytest.fixture
def shop_page(db, store):
    page = make_shop(db, store).page
    make_coupon(db, store)  # SAVE10: 10 % off
    db.commit()
    return page


@pytest.fixture
def embed(db, shop_page):
    embed = create_embed(db, shop_page, type="inline")
    db.commit()
    return embed


@pytest.fixture
def shopper(app, client):
    """A browser in a third-party frame: it never sends a cookie (a fresh client per request).
    Through `client`, each request runs in an app context of its own, as in production."""

    class Shopper:
        def request(self, method, url, **kwargs):
            client = app.test_client(use_cookies=False)
            response = client.open(url, method=method, **kwargs)
            assert "Set-Cookie" not in response.headers, f"{method} {url} set a cookie"
            return response

        def get(self, url, **kwargs):
            return self.request("GET", url, **kwargs)

        def post(self, url, **kwargs):
            return self.request("POST", url, **kwargs)

    return Shopper()


def open_frame(shopper, embed, origin: str | None = HOST) -> tuple[str, str]:
    """GET /embed/<id> as embed.js does, and save once, as the shopper's first change does (that
    creates the session); returns (session id, the session's page HTML)."""
    query = f"?origin={origin}" if origin else ""
    assert shopper.get(f"/embed/{embed.public_id}{query}").status_code == 200
    variant = embed.page.variants[0]
    response = shopper.post(f"/embed/{embed.public_id}{query}", data={f"variant_{variant.id}": str(variant.options[0].id)})
    assert response.status_code == 303
    html = shopper.get(response.headers["Location"]).get_data(as_text=True)
    return SESSION_ID.search(html).group(1), html


def details(page, **overrides) -> dict:
    variant = page.variants[0]
    data = {"email": "sam@example.com", "name": "Sam Shopper", f"variant_{variant.id}": str(variant.options[1].id),
            "field_company": "Initech", "field_color": "Blue"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def card(number: str = VISA) -> dict:
    return {"card_number": number, "card_expiry": "12/34", "card_cvc": "123"}


def pay(shopper, page, session_id, number=VISA, origin=HOST):
    return shopper.post(f"/embed/s/{session_id}/pay?origin={origin}", data={**details(page), **card(number)})


def load(db, session_id: str) -> CheckoutSession:
    db.expire_all()
    return db.get(CheckoutSession, session_id)


def attempt_of(db, session_id: str) -> PaymentAttempt:
    db.expire_all()
    return db.scalar(sa.select(PaymentAttempt).where(PaymentAttempt.session_id == session_id)
                     .order_by(PaymentAttempt.number.desc()).limit(1))


def body_tag(html: str) -> str:
    return re.search(r"<body[^>]*>", html).group(0)


# ---------------------------------------------------------------- opening


def sessions_and_stats(db, page) -> tuple[int, int, int]:
    """(checkout sessions, views counted, sessions counted) of the page."""
    db.expire_all()
    stats = db.get(PageStats, page.id)
    return db.scalar(sa.select(sa.func.count()).select_from(CheckoutSession)), stats.views, stats.sessions


def test_opening_the_embed_renders_the_form_and_writes_no_session(shopper, db, embed, shop_page):
    """SPEC §6.1: an inline embed's frame loads on every page view of the merchant's site; only
    the shopper's first save or Pay creates a session."""
    response = shopper.get(f"/embed/{embed.public_id}?origin={HOST}")
    assert response.status_code == 200
    assert shopper.get(f"/embed/{embed.public_id}").status_code == 200
    assert sessions_and_stats(db, shop_page) == (0, 2, 0)
    html = response.get_data(as_text=True)
    body = body_tag(html)
    assert f'data-embed-id="{embed.public_id}"' in body and 'data-state="open"' in body
    assert "data-session-id" not in body
    assert f'data-origin="{HOST}"' in body and "X-CSRFToken" not in body and "embed" in body
    assert "T-shirt" in html and "TEST MODE" in html and 'name="card_number"' in html
    assert "js/embed-frame.js" in html and "css/embed.css" in html and "js/app.js" not in html
    assert "shop-header" not in html and "Powered by Checkie" not in html  # no site chrome
    assert 'name="csrf_token"' not in html
    origin = "origin=https://shop.example"
    assert f'action="/embed/{embed.public_id}?{origin}"' in html
    assert f'formaction="/embed/{embed.public_id}/pay?{origin}"' in html


def test_the_first_save_in_the_frame_creates_the_session_there(shopper, db, embed, shop_page):
    shopper.get(f"/embed/{embed.public_id}?origin={HOST}")
    response = shopper.post(f"/embed/{embed.public_id}?origin={HOST}", data=details(shop_page))
    assert response.status_code == 303
    [checkout] = db.scalars(sa.select(CheckoutSession))
    assert response.headers["Location"] == f"/embed/s/{checkout.id}?origin={HOST}"
    assert checkout.page_id == shop_page.id and checkout.total == 2500
    assert set(checkout.client_info) == {"ip", "userAgent", "embedId"}
    assert checkout.client_info["embedId"] == embed.public_id
    assert sessions_and_stats(db, shop_page) == (1, 1, 1)
    html = shopper.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-session-id="{checkout.id}"' in body_tag(html)
    assert f'action="/embed/s/{checkout.id}?origin=https://shop.example"' in html


def test_the_first_htmx_save_in_the_frame_points_the_form_at_the_session(shopper, db, embed, shop_page):
    url = f"/embed/{embed.public_id}?origin={HOST}"
    response = shopper.post(url, data=details(shop_page, email="nope"), headers=HTMX)
    assert response.status_code == 422 and sessions_and_stats(db, shop_page)[0] == 0
    assert "Enter a valid email address." in response.get_data(as_text=True)
    response = shopper.post(url, data=details(shop_page), headers=HTMX)
    assert response.status_code == 200 and "HX-Push-Url" not in response.headers  # the host page's history is left alone
    [checkout] = db.scalars(sa.select(CheckoutSession))
    html = response.get_data(as_text=True)
    assert html.count(f'hx-post="/embed/s/{checkout.id}?origin=https://shop.example"') == 3
    assert f'formaction="/embed/s/{checkout.id}/pay?origin=https://shop.example"' in html


def test_a_first_pay_in_the_frame_creates_the_session_with_the_payment(shopper, db, embed, shop_page):
    refused = shopper.post(f"/embed/{embed.public_id}/pay?origin={HOST}", data={**details(shop_page), **card("4111")})
    assert refused.status_code == 422 and sessions_and_stats(db, shop_page)[0] == 0
    response = shopper.post(f"/embed/{embed.public_id}/pay?origin={HOST}", data={**details(shop_page), **card()})
    assert response.status_code == 303
    [checkout] = db.scalars(sa.select(CheckoutSession))
    assert response.headers["Location"] == f"/embed/s/{checkout.id}?origin={HOST}"
    assert checkout.state is CheckoutState.COMPLETED and checkout.client_info["embedId"] == embed.public_id


def test_unknown_embed_and_unpublished_page_are_404(shopper, db, embed, shop_page):
    assert shopper.get("/embed/emb_nope").status_code == 404
    assert shopper.get("/embed/not-an-embed").status_code == 404
    shop_page.status = type(shop_page.status)("draft")
    db.commit()
    assert shopper.get(f"/embed/{embed.public_id}").status_code == 404
    assert shopper.post(f"/embed/{embed.public_id}", data={"email": "nope"}).status_code == 404
    assert shopper.post(f"/embed/{embed.public_id}/pay", data=card()).status_code == 404


def test_session_routes_refuse_sessions_not_opened_by_an_embed(shopper, db, embed, shop_page):
    session_id = open_checkout(db, shop_page).id  # a hosted session
    db.commit()
    assert shopper.get(f"/embed/s/{session_id}").status_code == 404
    assert shopper.post(f"/embed/s/{session_id}", data=details(shop_page)).status_code == 404
    assert shopper.get("/embed/s/cs_unknown").status_code == 404


def test_a_deleted_embed_stops_its_sessions(shopper, db, embed):
    session_id, _ = open_frame(shopper, embed)
    db.delete(embed)
    db.commit()
    assert shopper.get(f"/embed/s/{session_id}").status_code == 404


# ---------------------------------------------------------------- saving and paying


def test_saving_details_redirects_within_the_frame_and_htmx_gets_the_summary(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    response = shopper.post(f"/embed/s/{session_id}?origin={HOST}", data=details(shop_page))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/embed/s/{session_id}?origin={HOST}"
    checkout = load(db, session_id)
    assert checkout.email == "sam@example.com" and checkout.total == 2500

    fragment = shopper.post(f"/embed/s/{session_id}?origin={HOST}", headers=HTMX,
                            data=details(shop_page, email="not-an-email"))
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 422 and "<html" not in body
    assert 'id="checkout-summary"' in body and 'id="checkout-email-error"' in body and "hx-swap-oob" in body


def test_paying_with_4242_completes_and_shows_success_in_the_frame(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    response = pay(shopper, shop_page, session_id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/embed/s/{session_id}?origin={HOST}"
    assert load(db, session_id).state is CheckoutState.COMPLETED
    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session_id))

    page = shopper.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    body = body_tag(html)
    assert page.status_code == 200 and "Thank you" in html and "$25.00" in html
    assert 'data-state="completed"' in body and f'data-payment-id="{payment.id}"' in body
    assert f'data-session-id="{session_id}"' in body and f'data-origin="{HOST}"' in body
    # The success URL leaves the frame only when the shopper follows it.
    assert '<a href="https://shop.example/thanks" target="_top" rel="noopener" role="button">Continue</a>' in html

    again = pay(shopper, shop_page, session_id)
    assert again.status_code == 409 and "This checkout can no longer be changed" in again.get_data(as_text=True)
    assert f'href="/embed/s/{session_id}?origin={HOST}"' in again.get_data(as_text=True)


def test_a_refused_card_number_is_422_with_the_error_beside_the_field(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    response = pay(shopper, shop_page, session_id, number="1234 5678 9012 3456")
    assert response.status_code == 422
    assert 'id="checkout-card_number-error"' in response.get_data(as_text=True)
    assert load(db, session_id).state is CheckoutState.OPEN and load(db, session_id).attempt_count == 0


def test_a_decline_shows_the_reason_and_marks_the_failure_code(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    response = pay(shopper, shop_page, session_id, number=DECLINED)
    assert response.status_code == 303
    html = shopper.get(response.headers["Location"]).get_data(as_text=True)
    body = body_tag(html)
    assert 'data-state="open"' in body and 'data-failure-code="card_declined"' in body
    assert "Your card was declined." in html and "2 attempts left." in html


def test_3ds_happens_inside_the_frame_and_completes(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    response = pay(shopper, shop_page, session_id, number=THREE_D_SECURE)
    attempt = attempt_of(db, session_id)
    step = f"/embed/s/{session_id}/3ds/{attempt.action_token}?origin={HOST}"
    assert response.status_code == 303 and response.headers["Location"] == step
    assert load(db, session_id).state is CheckoutState.AWAITING_ACTION

    waiting = shopper.get(f"/embed/s/{session_id}?origin={HOST}").get_data(as_text=True)
    assert 'data-state="awaiting_action"' in body_tag(waiting) and f'href="{step}"' in waiting

    page = shopper.get(step)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Authenticate this payment" in html
    assert 'data-state="awaiting_action"' in body_tag(html) and f'action="{step}"' in html
    assert 'value="complete"' in html and 'value="fail"' in html and "shop-header" not in html

    done = shopper.post(step, data={"outcome": "complete"})
    assert done.status_code == 303 and done.headers["Location"] == f"/embed/s/{session_id}?origin={HOST}"
    assert load(db, session_id).state is CheckoutState.COMPLETED
    assert 'data-state="completed"' in body_tag(shopper.get(done.headers["Location"]).get_data(as_text=True))
    # Decided: the step sends the shopper back to the session's page.
    assert shopper.get(step).status_code == 303


def test_failed_3ds_inside_the_frame_reports_authentication_failed(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    step = pay(shopper, shop_page, session_id, number=THREE_D_SECURE).headers["Location"]
    assert shopper.post(step, data={"outcome": "nonsense"}).status_code == 422
    done = shopper.post(step, data={"outcome": "fail"})
    assert done.status_code == 303
    assert load(db, session_id).state is CheckoutState.OPEN
    html = shopper.get(done.headers["Location"]).get_data(as_text=True)
    assert 'data-failure-code="authentication_failed"' in body_tag(html)
    assert "Authentication failed." in html and "2 attempts left." in html


def test_3ds_step_serves_only_this_sessions_waiting_attempt(shopper, db, embed, shop_page):
    first, _ = open_frame(shopper, embed)
    second, _ = open_frame(shopper, embed)
    pay(shopper, shop_page, first, number=THREE_D_SECURE)
    attempt = attempt_of(db, first)
    assert shopper.get(f"/embed/s/{second}/3ds/{attempt.action_token}").status_code == 404
    assert shopper.post(f"/embed/s/{second}/3ds/{attempt.action_token}", data={"outcome": "complete"}).status_code == 404
    assert shopper.get(f"/embed/s/{first}/3ds/{attempt.id}").status_code == 404  # the attempt's id opens nothing
    assert shopper.get(f"/embed/s/{first}/3ds/no-such-token").status_code == 404
    assert load(db, first).state is CheckoutState.AWAITING_ACTION


def test_the_frames_3ds_step_does_not_exist_where_the_test_provider_is_off(app, shopper, db, embed, shop_page, monkeypatch):
    session_id, _ = open_frame(shopper, embed)
    step = pay(shopper, shop_page, session_id, number=THREE_D_SECURE).headers["Location"]
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    assert shopper.get(step).status_code == 404
    assert shopper.post(step, data={"outcome": "complete"}).status_code == 404
    assert load(db, session_id).state is CheckoutState.AWAITING_ACTION


def test_processing_view_polls_the_frames_status_fragment(shopper, db, embed):
    session_id, _ = open_frame(shopper, embed)
    checkout = load(db, session_id)
    checkout.state = CheckoutState.PROCESSING  # set-up only: as if the provider had not answered yet
    db.commit()
    html = shopper.get(f"/embed/s/{session_id}?origin={HOST}").get_data(as_text=True)
    assert 'data-state="processing"' in body_tag(html) and "Processing your payment" in html
    assert f'hx-get="/embed/s/{session_id}/status?origin={HOST}" hx-trigger="every 2s"' in html

    fragment = shopper.get(f"/embed/s/{session_id}/status?origin={HOST}", headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert shopper.get(f"/embed/s/{session_id}/status").status_code == 303

    checkout = load(db, session_id)
    checkout.state = CheckoutState.COMPLETED
    db.commit()
    decided = shopper.get(f"/embed/s/{session_id}/status?origin={HOST}", headers=HTMX)
    assert decided.headers["HX-Redirect"] == f"/embed/s/{session_id}?origin={HOST}"


def test_expired_and_abandoned_sessions_offer_a_new_one_in_the_frame(shopper, db, embed):
    from checkie.checkout import services

    session_id, _ = open_frame(shopper, embed)
    checkout = load(db, session_id)
    checkout.state = CheckoutState.EXPIRED  # set-up only: as the expiry task leaves it
    checkout.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    html = shopper.get(f"/embed/s/{session_id}?origin={HOST}").get_data(as_text=True)
    assert 'data-state="expired"' in body_tag(html) and "This checkout has expired" in html
    assert f'href="/embed/{embed.public_id}?origin={HOST}"' in html and "Start again" in html

    other, _ = open_frame(shopper, embed)
    services.abandon_checkout(db, load(db, other))
    db.commit()
    html = shopper.get(f"/embed/s/{other}").get_data(as_text=True)
    assert 'data-state="abandoned"' in body_tag(html) and "This checkout was cancelled" in html


# ---------------------------------------------------------------- framing and origins


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_every_embed_response_may_be_framed_anywhere_without_allowed_origins(shopper, db, embed, shop_page):
    session_id, _ = open_frame(shopper, embed)
    responses = [
        shopper.get(f"/embed/{embed.public_id}"), shopper.get(f"/embed/s/{session_id}"),
        shopper.post(f"/embed/s/{session_id}", data=details(shop_page)),
        shopper.post(f"/embed/s/{session_id}", data=details(shop_page), headers=HTMX),
        shopper.get(f"/embed/s/{session_id}/status"), shopper.get("/embed/emb_unknown"),
    ]
    for response in responses:
        policy = csp(response)
        assert policy["frame-ancestors"] == "*", response.request.path
        assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert "X-Frame-Options" not in response.headers


def test_allowed_origins_become_the_frame_ancestors(shopper, db, shop_page):
    embed = create_embed(db, shop_page, type="button", allowed_origins=["https://shop.example", "http://127.0.0.2:8001"])
    db.commit()
    session_id, _ = open_frame(shopper, embed)
    for response in (shopper.get(f"/embed/{embed.public_id}"), shopper.get(f"/embed/s/{session_id}"),
                     pay(shopper, shop_page, session_id, number=DECLINED)):
        assert csp(response)["frame-ancestors"] == "https://shop.example http://127.0.0.2:8001"
        assert "X-Frame-Options" not in response.headers


def test_other_pages_still_refuse_to_be_framed(shopper, client, embed, shop_page):
    for response in (client.get(f"/c/{shop_page.store.slug}/{shop_page.slug}"), client.get("/login")):
        assert csp(response)["frame-ancestors"] == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("given", "kept"), [
    ("https://shop.example", "https://shop.example"),
    ("HTTPS://Shop.Example:443/", "https://shop.example"),
    ("http://127.0.0.2:8001", "http://127.0.0.2:8001"),
    ("javascript:alert(1)", None),
    ("https://shop.example/path", None),
    ("*", None),
    ("", None),
])
def test_origin_is_kept_only_when_it_is_an_http_origin(shopper, embed, given, kept):
    html = shopper.get(f"/embed/{embed.public_id}", query_string={"origin": given}).get_data(as_text=True)
    body = body_tag(html)
    if kept:
        assert f'data-origin="{kept}"' in body and f"origin={kept}" in html
    else:
        assert "data-origin" not in body and "origin=" not in html


def test_origin_must_be_one_of_the_allowed_ones_when_the_embed_lists_them(shopper, db, shop_page):
    embed = create_embed(db, shop_page, type="inline", allowed_origins=["https://shop.example"])
    db.commit()
    allowed = body_tag(shopper.get(f"/embed/{embed.public_id}?origin=https://shop.example").get_data(as_text=True))
    assert 'data-origin="https://shop.example"' in allowed
    sessions = db.scalar(sa.select(sa.func.count(CheckoutSession.id)))
    # Elsewhere: a page that may be framed there, says why and links to the hosted checkout.
    refused = shopper.get(f"/embed/{embed.public_id}?origin=https://evil.example")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "frame-ancestors *" in refused.headers["Content-Security-Policy"]
    assert "This checkout can’t be shown on this site." in html
    assert f'href="/c/{shop_page.store.slug}/{shop_page.slug}" target="_top"' in html
    assert "data-origin" not in body_tag(html) and "evil.example" not in html and "checkout-form" not in html
    assert db.scalar(sa.select(sa.func.count(CheckoutSession.id))) == sessions


def test_theme_setting_reaches_the_frame(shopper, db, shop_page):
    dark = create_embed(db, shop_page, type="inline", theme="dark")
    auto = create_embed(db, shop_page, type="inline")
    db.commit()
    assert 'data-theme="dark"' in body_tag(shopper.get(f"/embed/{dark.public_id}").get_data(as_text=True))
    assert "data-theme" not in body_tag(shopper.get(f"/embed/{auto.public_id}").get_data(as_text=True))


def test_frame_script_posts_only_to_the_validated_origin():
    """A static check of the contract's shape (the browser tests drive it for real)."""
    from pathlib import Path

    script = (Path(__file__).parents[2] / "static/js/embed-frame.js").read_text()
    for name in ("ready", "resize", "attempt_failed", "awaiting_action", "completed"):
        assert f'"{name}"' in script
    assert '"*"' not in script.split("*/", 1)[1] and "postMessage(" in script and "data.origin" in script
    assert "ResizeObserver" in script and "htmx:afterSettle" in script


def test_the_brand_colour_reaches_the_frame_as_a_stylesheet_of_our_own(db, shop_page, shopper):
    branded = create_embed(db, shop_page, type="inline", brand_color="#0E7C66")
    db.commit()
    assert branded.settings["brand_color"] == "#0e7c66"
    _, html = open_frame(shopper, branded)
    stylesheet = f"/embed/{branded.public_id}/theme.css?v=0e7c66"
    assert f'href="{stylesheet}"' in html and "style=" not in html
    css = shopper.get(stylesheet)
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "--pico-primary: #0e7c66;" in css.get_data(as_text=True)


def test_an_embed_without_a_brand_colour_keeps_picos_and_has_no_theme_stylesheet(embed, shopper):
    _, html = open_frame(shopper, embed)
    assert "theme.css" not in html
    assert shopper.get(f"/embed/{embed.public_id}/theme.css").status_code == 404
    assert shopper.get("/embed/emb_unknown/theme.css").status_code == 404


@pytest.mark.parametrize("color", ["red", "#abc", "#12345g", "rgb(1,2,3)", "#1234567"])
def test_a_brand_colour_must_be_hex_rrggbb(db, shop_page, color):
    from checkie.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        create_embed(db, shop_page, type="inline", brand_color=color)
    assert "brand_color" in refused.value.fields
