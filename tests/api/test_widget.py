"""Widget JSON API (SPEC §6.2): opening a checkout, updating it, coupons, status, abandon,
embeds, CORS and rate limits. Payments through the widget: test_widget_checkout.py."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkie.catalog import pages
from checkie.catalog.coupons import deactivate_coupon
from checkie.catalog.models import Coupon, PageStats
from checkie.checkout.models import CheckoutSession
from checkie.extensions import limiter
from tests.factories import make_coupon, make_embed, make_shop
from tests.widget import WIDGET, WIDGET_SHOP, fill_in, open_checkout, patch_session, status

PAGE_KEYS = {"id", "slug", "title", "description", "pricing", "variants", "customFields", "allowCoupons"}
SESSION_KEYS = {"sessionId", "status", "email", "amount", "customFields", "variantOptions", "coupon", "subscriptionId"}


@pytest.fixture
def shop(db, store):
    shop = make_shop(db, store, **WIDGET_SHOP)
    db.commit()
    return shop


@pytest.fixture
def opened(client, store, shop) -> dict:
    return open_checkout(client, store, shop.page)


def amount(subtotal: int, discount: int = 0, currency: str = "USD") -> dict:
    return {"subtotal": subtotal, "discount": discount, "total": subtotal - discount, "currency": currency}


def session_amount(subtotal: int, discount: int = 0) -> dict:
    """A session's amounts: a one-time page's total is all due now."""
    return {**amount(subtotal, discount), "dueNow": subtotal - discount}


# ---------- open ----------

def test_open_answers_the_session_the_store_the_page_and_the_amount(client, store, shop):
    body = open_checkout(client, store, shop.page)
    assert set(body) == {"sessionId", "expiresAt", "store", "page", "amount"}
    assert body["sessionId"].startswith("cs_")
    expires = datetime.fromisoformat(body["expiresAt"])
    assert timedelta(minutes=55) < expires - datetime.now(UTC) <= timedelta(minutes=60)
    assert body["store"] == {"name": "Acme Goods", "slug": "acme"}
    page = body["page"]
    assert set(page) == PAGE_KEYS
    assert page["id"] == shop.page.id and page["slug"] == "t-shirt" and page["title"] == "T-shirt"
    assert page["description"] == "Soft cotton." and page["allowCoupons"] is True
    assert page["pricing"] == {"type": "one_time", "amount": 2500, "currency": "USD", "interval": None,
                               "intervalCount": 1, "trialDays": 0}
    assert page["variants"] == [{"id": shop.size, "name": "Size", "options": [
        {"id": shop.small, "name": "S", "priceDelta": 0}, {"id": shop.large, "name": "L", "priceDelta": 500}]}]
    assert [(f["key"], f["label"], f["type"], f["required"], f["options"]) for f in page["customFields"]] == [
        ("company", "Company", "text", True, None), ("color", "Color", "select", False, ["Red", "Blue"])]
    assert all(set(f) == {"id", "key", "label", "type", "required", "options"} for f in page["customFields"])
    assert body["amount"] == session_amount(2500)  # the first option of every variant is preselected


def test_open_counts_a_view_and_a_session_each_time(client, db, store, shop):
    first = open_checkout(client, store, shop.page)
    second = open_checkout(client, store, shop.page)
    assert first["sessionId"] != second["sessionId"]
    stats = db.get(PageStats, shop.page.id)
    db.refresh(stats)
    assert (stats.views, stats.sessions) == (2, 2)


@pytest.mark.parametrize("path", ["acme/nope", "nope/t-shirt", "acme/draft", "acme/archived"])
def test_open_is_404_unless_the_page_is_published(client, db, store, shop, path):
    make_shop(db, store, slug="draft", publish=False)
    pages.archive_page(db, make_shop(db, store, slug="archived").page)
    db.commit()
    response = client.get(f"{WIDGET}/pages/{path}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_open_records_where_the_shopper_came_from(client, db, store, shop):
    from checkie.checkout.models import CheckoutSession

    response = client.get(f"{WIDGET}/pages/acme/t-shirt", headers={"User-Agent": "ShopperBrowser/1.0"},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
    session = db.get(CheckoutSession, response.json["sessionId"])
    assert session.client_info["ip"] == "203.0.113.7"
    assert session.client_info["userAgent"] == "ShopperBrowser/1.0"


# ---------- update ----------

def test_patch_answers_the_session_view(client, db, store, shop, opened):
    make_coupon(db, store, code="SAVE10")
    db.commit()
    response = patch_session(client, opened["sessionId"], {
        "email": "shopper@example.com", "name": "Sam", "variantOptions": {str(shop.size): shop.large},
        "customFields": {"company": "Initech", "color": "Blue"}, "couponCode": "save10",
    })
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == SESSION_KEYS
    assert body["sessionId"] == opened["sessionId"] and body["status"] == "open"
    assert body["email"] == "shopper@example.com"
    assert body["variantOptions"] == {str(shop.size): shop.large}
    assert body["customFields"] == {"company": "Initech", "color": "Blue"}
    assert body["coupon"] == {"code": "SAVE10", "percentOff": 10, "amountOff": None, "currency": None}
    assert body["amount"] == session_amount(3000, 300)


def test_patch_that_takes_the_order_below_the_coupons_minimum_is_saved_without_the_coupon(client, db, store, shop, opened):
    """Issue 10, item 2: the change is not refused; the coupon it no longer qualifies for goes."""
    make_coupon(db, store, code="BIG5", amount_off=500, minimum_amount=3000, currency="USD")
    db.commit()
    large = {"variantOptions": {str(shop.size): shop.large}, "couponCode": "BIG5"}
    assert patch_session(client, opened["sessionId"], large).json["amount"] == session_amount(3000, 500)
    response = patch_session(client, opened["sessionId"], {"variantOptions": {str(shop.size): shop.small}})
    assert response.status_code == 200, response.json
    assert response.json["coupon"] is None and response.json["amount"] == session_amount(2500)
    assert response.json["variantOptions"] == {str(shop.size): shop.small}


def test_patch_keeps_what_is_not_sent(client, shop, opened):
    fill_in(client, opened["sessionId"])
    body = patch_session(client, opened["sessionId"], {"variantOptions": {str(shop.size): shop.large}}).json
    assert body["email"] == "shopper@example.com" and body["customFields"] == {"company": "Initech"}
    assert body["amount"] == session_amount(3000)


def test_patch_with_an_empty_body_changes_nothing(client, opened):
    response = client.patch(f"{WIDGET}/sessions/{opened['sessionId']}")
    assert response.status_code == 200 and response.json["amount"] == session_amount(2500)


@pytest.mark.parametrize("body, field", [
    ({"email": "not an email"}, "email"),
    ({"email": 42}, "email"),
    ({"variantOptions": {"999999": 1}}, "variantOptions"),
    ({"variantOptions": ["x"]}, "variantOptions"),
    ({"customFields": {"color": "Green"}}, "customFields.color"),
    ({"customFields": "x"}, "customFields"),
    ({"couponCode": "NOPE1"}, "couponCode"),
])
def test_patch_refuses_invalid_fields_with_422(client, opened, body, field):
    response = patch_session(client, opened["sessionId"], body)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error" and error["message"]
    assert field in error["fields"], error


@pytest.mark.parametrize("value", [0, False, [], {}])
@pytest.mark.parametrize("field", ["email", "name"])
def test_patch_refuses_empty_values_that_are_not_text_and_keeps_the_details(client, db, opened, field, value):
    session_id = opened["sessionId"]
    assert patch_session(client, session_id, {"email": "kept@example.com", "name": "Kept"}).status_code == 200
    response = patch_session(client, session_id, {field: value})
    assert response.status_code == 422 and list(response.json["error"]["fields"]) == [field], response.json
    session = db.get(CheckoutSession, session_id)
    assert (session.email, session.name) == ("kept@example.com", "Kept")


def test_patch_with_a_wrong_option_names_the_variant_options_field(client, shop, opened):
    response = patch_session(client, opened["sessionId"], {"variantOptions": {str(shop.size): shop.large + 1000}})
    assert response.status_code == 422
    assert "variantOptions" in response.json["error"]["fields"]


def test_patch_refuses_a_body_that_is_not_an_object(client, opened):
    response = client.patch(f"{WIDGET}/sessions/{opened['sessionId']}", data="[1]", content_type="application/json")
    assert response.status_code == 422 and response.json["error"]["code"] == "validation_error"


def test_patch_is_409_once_the_session_is_not_open(client, opened):
    assert client.post(f"{WIDGET}/sessions/{opened['sessionId']}/abandon").status_code == 200
    response = patch_session(client, opened["sessionId"], {"email": "late@example.com"})
    assert response.status_code == 409
    assert status(client, opened["sessionId"])["status"] == "abandoned"


@pytest.mark.parametrize("method, path", [
    ("patch", "/sessions/cs_unknown"), ("get", "/sessions/cs_unknown/status"),
    ("post", "/sessions/cs_unknown/abandon"), ("get", "/embed/emb_unknown"),
])
def test_unknown_ids_are_404(client, method, path):
    response = getattr(client, method)(f"{WIDGET}{path}", json={})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_unknown_session_in_a_body_is_404(client):
    assert client.post(f"{WIDGET}/validate-coupon", json={"sessionId": "cs_nope", "code": "X1X"}).status_code == 404
    assert client.post(f"{WIDGET}/checkout", json={"sessionId": "cs_nope"}).status_code == 404


# ---------- validate-coupon ----------

def check(client, session_id: str, code: str):
    return client.post(f"{WIDGET}/validate-coupon", json={"sessionId": session_id, "code": code})


def test_a_valid_coupon_shows_the_discounted_amount_without_applying_it(client, db, store, opened):
    make_coupon(db, store, code="FIVE", amount_off=500)
    db.commit()
    response = check(client, opened["sessionId"], "five")
    assert response.status_code == 200
    assert response.json == {
        "valid": True, "coupon": {"code": "FIVE", "percentOff": None, "amountOff": 500, "currency": "USD"},
        "amount": amount(2500, 500),
    }
    session = status(client, opened["sessionId"])
    assert session["status"] == "open"
    assert patch_session(client, opened["sessionId"], {}).json["coupon"] is None


def _past(coupon: Coupon) -> None:
    coupon.expires_at = datetime.now(UTC) - timedelta(days=1)


@pytest.mark.parametrize("code, reason", [
    ("NOPE1", "not_found"), ("OLD", "expired"), ("OFF", "inactive"), ("USEDUP", "exhausted"),
    ("ELSEWHERE", "not_applicable"), ("EUROS", "not_applicable"), ("BIGSPEND", "below_minimum"),
])
def test_an_invalid_coupon_says_why(client, db, store, shop, opened, code, reason):
    other = make_shop(db, store, slug="other").page
    _past(make_coupon(db, store, code="OLD", expires_at=datetime.now(UTC) + timedelta(days=1)))
    deactivate_coupon(db, make_coupon(db, store, code="OFF"))
    make_coupon(db, store, code="USEDUP", max_redemptions=1).redemption_count = 1
    make_coupon(db, store, code="ELSEWHERE", page_ids=[other.id])
    make_coupon(db, store, code="EUROS", amount_off=100, currency="EUR")
    make_coupon(db, store, code="BIGSPEND", minimum_amount=10_000, currency="USD")
    db.commit()
    response = check(client, opened["sessionId"], code)
    assert response.status_code == 200
    assert response.json == {"valid": False, "reason": reason}


def test_a_page_without_coupons_refuses_every_code(client, db, store):
    shop = make_shop(db, store, slug="plain", allow_coupons=False)
    make_coupon(db, store, code="SAVE10")
    db.commit()
    opened = open_checkout(client, store, shop.page)
    assert check(client, opened["sessionId"], "SAVE10").json == {"valid": False, "reason": "not_applicable"}


def test_validate_coupon_needs_a_session_and_a_code(client, opened):
    response = client.post(f"{WIDGET}/validate-coupon", json={"sessionId": opened["sessionId"]})
    assert response.status_code == 422 and "code" in response.json["error"]["fields"]
    response = client.post(f"{WIDGET}/validate-coupon", json={"code": "SAVE10"})
    assert response.status_code == 422 and "sessionId" in response.json["error"]["fields"]


# ---------- status and abandon ----------

def test_status_of_an_open_session(client, opened):
    assert status(client, opened["sessionId"]) == {
        "sessionId": opened["sessionId"], "status": "open", "attempts": 0, "subscriptionId": None}


def test_abandon_ends_the_session_once(client, opened):
    url = f"{WIDGET}/sessions/{opened['sessionId']}/abandon"
    response = client.post(url)
    assert response.status_code == 200
    assert response.json == {"sessionId": opened["sessionId"], "status": "abandoned"}
    again = client.post(url)
    assert again.status_code == 409 and again.json["error"]["message"]


def test_checkout_is_409_on_an_abandoned_session(client, opened):
    fill_in(client, opened["sessionId"])
    client.post(f"{WIDGET}/sessions/{opened['sessionId']}/abandon")
    response = client.post(f"{WIDGET}/checkout", json={"sessionId": opened["sessionId"], "paymentMethod": "pm_card_visa"})
    assert response.status_code == 409


# ---------- embeds ----------

def test_embed_answers_its_type_url_page_and_settings(client, db, shop):
    embed = make_embed(db, shop.page, type="button", button_text="Get it")
    db.commit()
    response = client.get(f"{WIDGET}/embed/{embed.public_id}")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"embedId", "type", "iframeUrl", "page", "settings"}
    assert body["embedId"] == embed.public_id and body["type"] == "button"
    assert body["iframeUrl"] == f"http://localhost/embed/{embed.public_id}"
    assert body["settings"] == {"buttonText": "Get it", "theme": "auto"}
    assert set(body["page"]) == PAGE_KEYS and body["page"]["id"] == shop.page.id
    assert body["page"]["variants"][0]["options"][1]["priceDelta"] == 500


def test_embed_of_a_page_off_sale_is_404(client, db, shop):
    embed = make_embed(db, shop.page)
    pages.unpublish_page(db, shop.page)
    db.commit()
    assert client.get(f"{WIDGET}/embed/{embed.public_id}").status_code == 404


# ---------- CORS ----------

@pytest.mark.parametrize("path", ["/pages/acme/t-shirt", "/pages/acme/nope", "/embed/emb_nope", "/nothing-here"])
def test_every_answer_may_be_read_from_any_origin(client, shop, path):
    response = client.get(f"{WIDGET}{path}", headers={"Origin": "https://shop.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_validation_errors_carry_cors_headers_too(client, opened):
    response = patch_session(client, opened["sessionId"], {"email": 1})
    assert response.status_code == 422 and response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/checkout", "/sessions/cs_x", "/pages/acme/t-shirt", "/validate-coupon"])
def test_preflight_answers_204_with_what_the_widget_accepts(client, path):
    response = client.options(f"{WIDGET}{path}", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Idempotency-Key",
    })
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, PATCH, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type, Idempotency-Key"
    assert response.get_data() == b""


# ---------- rate limits ----------

@pytest.fixture
def low_limit(app):
    previous = app.config["WIDGET_RATE_LIMIT"]
    app.config["WIDGET_RATE_LIMIT"] = "3/minute"
    with app.app_context():
        limiter.reset()
    yield
    app.config["WIDGET_RATE_LIMIT"] = previous
    with app.app_context():
        limiter.reset()


def test_one_ip_is_limited(client, db, shop, low_limit):
    embed = make_embed(db, shop.page)
    db.commit()
    codes = [client.get(f"{WIDGET}/embed/{embed.public_id}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other_ip = client.get(f"{WIDGET}/embed/{embed.public_id}", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other_ip.status_code == 200


def test_one_session_is_limited_whatever_the_ip(client, store, shop, low_limit):
    session_id = open_checkout(client, store, shop.page)["sessionId"]
    codes = [
        client.get(f"{WIDGET}/sessions/{session_id}/status", environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_a_refusal_is_json_and_readable_from_any_origin(client, shop, low_limit):
    for _ in range(3):
        client.get(f"{WIDGET}/embed/emb_nope")
    response = client.get(f"{WIDGET}/embed/emb_nope")
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_an_answer_within_the_limit_pays_for_no_rate_limit_headers(client, low_limit):
    """X-RateLimit-* would cost two Redis round trips per request; only a 429 says when to retry."""
    response = client.get(f"{WIDGET}/embed/emb_nope")
    assert response.status_code == 404
    assert not [name for name in response.headers.keys() if name.lower().startswith(("x-ratelimit", "retry-after"))]


def test_preflight_is_not_counted(client, low_limit):
    codes = {client.options(f"{WIDGET}/checkout").status_code for _ in range(5)}
    assert codes == {204}
