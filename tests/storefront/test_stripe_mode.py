"""The checkout of a store on Stripe, over HTTP against a real localstripe (tests/providers/localstripe.py):
Stripe.js's card Element instead of the TEST MODE form, only a Stripe.js token posted (never a card
number), 3-D Secure confirmed in the page with the intent's client secret, a CSP that names Stripe.js's
origin where it must and nowhere else, in both the hosted and the framed layout."""
from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa

from checkie.catalog.embeds import create_embed
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.payments.models import PaymentAttempt
from checkie.web import DEFAULT_CSP
from tests.csp_audit import audit
from tests.factories import make_shop
from tests.http import csrf_token_from, session_id_from
from tests.providers.localstripe import PUBLISHABLE_KEY
from tests.widget import WIDGET, fill_in
from tests.widget import open_checkout as open_widget

VISA = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
SESSION_ID = re.compile(r'data-session-id="(cs_[A-Za-z0-9_-]+)"')
CONFIRM = re.compile(r'data-stripe-confirm="((?:pi|seti)_[A-Za-z0-9_]+)"')


@pytest.fixture
def shop_page(db, stripe_store):
    page = make_shop(db, stripe_store).page
    db.commit()
    return page


@pytest.fixture
def embed(db, shop_page):
    embed = create_embed(db, shop_page, type="inline")
    db.commit()
    return embed


def card_token(localstripe, number: str = VISA) -> str:
    """A card token as Stripe.js's createToken makes it from the card Element (localstripe's /v1/tokens)."""
    response = requests.post(f"{localstripe.api_base}/v1/tokens", data={
        "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123",
        "key": PUBLISHABLE_KEY,
    }, timeout=5)
    response.raise_for_status()
    return response.json()["id"]


def details(page, **extra) -> dict:
    variant = page.variants[0]
    return {"email": "sam@example.com", "name": "Sam Shopper", f"variant_{variant.id}": str(variant.options[0].id),
            "field_company": "Initech", **extra}


def pay_hosted(client, page, **card):
    """Pay straight from the page's form (the session is created with the payment), as Pay does."""
    url = f"/c/{page.store.slug}/{page.slug}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/pay", data={"csrf_token": token, **details(page), **card})


def csp_of(response) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: value for name, value in directives}


def attempts(db) -> list[PaymentAttempt]:
    db.expire_all()
    return list(db.scalars(sa.select(PaymentAttempt)))


# ---------------------------------------------------------------- the page


def test_the_page_mounts_stripe_js_card_element_and_has_no_card_field_of_its_own(client, shop_page, localstripe):
    html = client.get("/c/acme/tee").get_data(as_text=True)
    assert 'id="checkout-card-element"' in html
    assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in html
    assert f'<script src="{localstripe.api_base}/js.stripe.com/v3/" defer></script>' in html
    assert '<script src="/static/js/stripe-card.js"' in html
    assert 'name="payment_method"' in html and 'aria-describedby="checkout-payment_method-error"' in html
    assert 'id="checkout-payment_method-error"' in html
    assert "TEST MODE" not in html and "card_number" not in html and "card_cvc" not in html
    assert "Paying by card needs JavaScript" in html  # <noscript>
    # Stripe.js is the one script from elsewhere; nothing inline.
    assert audit(html, full_page=True, path="/c/acme/tee") == [f"script from elsewhere: {localstripe.api_base}/js.stripe.com/v3/"]


def test_the_csp_names_stripe_js_origin_where_it_must_and_nothing_else(client, shop_page, localstripe):
    policy = csp_of(client.get("/c/acme/tee"))
    default = dict(part.split(" ", 1) for part in DEFAULT_CSP.split("; "))
    origin = localstripe.api_base  # localstripe serves both Stripe.js and the API
    assert policy == {**default, "script-src": f"'self' {origin}", "frame-src": f"'self' {origin}",
                      "connect-src": f"'self' {origin}"}


def test_the_csp_names_the_api_origin_apart_from_stripe_js(app, client, shop_page, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_JS_URL", "https://js.stripe.com/v3/")
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", None)
    policy = csp_of(client.get("/c/acme/tee"))
    assert policy["script-src"] == "'self' https://js.stripe.com"
    assert policy["frame-src"] == "'self' https://js.stripe.com"
    assert policy["connect-src"] == "'self' https://js.stripe.com https://api.stripe.com"


def test_a_test_store_page_is_unchanged(client, db, store):
    make_shop(db, store)
    db.commit()
    response = client.get("/c/acme/tee")
    html = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == DEFAULT_CSP
    assert "TEST MODE" in html and 'name="card_number"' in html
    assert "checkout-card-element" not in html and "stripe" not in html.lower()


# ---------------------------------------------------------------- paying


def test_paying_with_a_token_charges_the_card_saved_from_it(client, db, shop_page, localstripe):
    response = pay_hosted(client, shop_page, payment_method=card_token(localstripe))
    assert response.status_code == 303
    checkout = db.get(CheckoutSession, session_id_from(response.headers["Location"]))
    assert checkout.state is CheckoutState.COMPLETED
    [attempt] = attempts(db)
    assert attempt.provider == "stripe" and attempt.payment_method.startswith("card_")
    assert attempt.provider_customer_id.startswith("cus_") and attempt.provider_intent_id.startswith("pi_")


def test_pay_without_a_token_says_so_next_to_the_card_and_writes_nothing(client, db, shop_page):
    response = pay_hosted(client, shop_page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="checkout-payment_method-error"[^>]*>Enter your card details\.</small>', html)
    assert db.scalar(sa.select(sa.func.count()).select_from(CheckoutSession)) == 0


@pytest.mark.parametrize("value", [VISA, "4242 4242 4242 4242", "pm_card_visa<script>", "tok_" + "x" * 300])
def test_anything_but_a_token_is_refused_and_never_echoed(client, db, shop_page, value):
    response = pay_hosted(client, shop_page, payment_method=value)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your card details could not be read." in html
    assert value not in html and "4242 4242 4242 4242" not in html
    assert attempts(db) == []


def test_card_number_fields_are_ignored_in_stripe_mode(client, db, shop_page):
    """A card number never reaches Stripe through Checkie, nor its database: the TEST MODE fields are not read."""
    response = pay_hosted(client, shop_page, card_number=VISA, card_expiry="12/34", card_cvc="123")
    assert response.status_code == 422
    assert "Enter your card details." in response.get_data(as_text=True)
    assert VISA not in response.get_data(as_text=True)
    assert attempts(db) == []


def test_a_3d_secure_card_waits_with_the_client_secret_for_stripe_js(client, db, shop_page, localstripe):
    response = pay_hosted(client, shop_page, payment_method=card_token(localstripe, THREE_D_SECURE))
    assert response.status_code == 303
    session_id = session_id_from(response.headers["Location"])
    page = client.get(f"/c/s/{session_id}")
    html = page.get_data(as_text=True)
    [attempt] = attempts(db)
    assert db.get(CheckoutSession, session_id).state is CheckoutState.AWAITING_ACTION
    assert "Confirm your payment" in html
    assert CONFIRM.search(html)[1] == attempt.client_secret and attempt.client_secret.startswith(f"{attempt.provider_intent_id}_")
    assert csp_of(page)["script-src"] == f"'self' {localstripe.api_base}"  # Stripe.js is loaded to confirm it
    polled = client.get(f"/c/s/{session_id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in polled and CONFIRM.search(polled)[1] == attempt.client_secret


# ---------------------------------------------------------------- framed


def test_the_framed_checkout_mounts_the_card_element_and_pays_with_a_token(client, db, embed, localstripe):
    page = client.get(f"/embed/{embed.public_id}")
    html = page.get_data(as_text=True)
    policy = csp_of(page)
    assert 'id="checkout-card-element"' in html and "TEST MODE" not in html and "csrf_token" not in html
    assert policy["script-src"] == f"'self' {localstripe.api_base}" and policy["frame-ancestors"] == "*"
    variant = embed.page.variants[0]
    response = client.post(f"/embed/{embed.public_id}/pay", data={
        "email": "sam@example.com", f"variant_{variant.id}": str(variant.options[0].id), "field_company": "Initech",
        "payment_method": card_token(localstripe, THREE_D_SECURE),
    })
    assert response.status_code == 303
    waiting = client.get(response.headers["Location"])
    session_id = SESSION_ID.search(waiting.get_data(as_text=True))[1]
    assert db.get(CheckoutSession, session_id).state is CheckoutState.AWAITING_ACTION
    assert CONFIRM.search(waiting.get_data(as_text=True))
    assert csp_of(waiting)["frame-src"] == f"'self' {localstripe.api_base}"


def test_the_framed_pay_without_a_token_shows_the_error_next_to_the_card(client, embed):
    response = client.post(f"/embed/{embed.public_id}/pay", data={"email": "sam@example.com", "field_company": "Initech"})
    assert response.status_code == 422
    assert re.search(r'id="checkout-payment_method-error"[^>]*>Enter your card details\.', response.get_data(as_text=True))


# ---------------------------------------------------------------- the widget API


def test_the_widget_api_returns_the_client_secret_of_a_stripe_attempt(client, db, stripe_store, localstripe):
    page = make_shop(db, stripe_store, slug="t-shirt").page
    db.commit()
    session_id = open_widget(client, stripe_store, page)["sessionId"]
    fill_in(client, session_id)
    response = client.post(f"{WIDGET}/checkout", json={"sessionId": session_id,
                                                      "paymentMethod": card_token(localstripe, THREE_D_SECURE)})
    assert response.status_code == 200, response.json
    [attempt] = attempts(db)
    assert response.json["status"] == "awaiting_action"
    assert response.json["clientSecret"] == attempt.client_secret and attempt.client_secret.startswith("pi_")
