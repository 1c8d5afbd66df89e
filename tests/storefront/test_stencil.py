"""The open checkout's page from its stencil (storefront/stencil.py) is byte for byte the page the
full render makes, for every shape and whatever the shopper typed; sessions it does not cover are
rendered in full."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checkie.checkout.models import CheckoutState
from checkie.storefront import stencil
from tests.factories import make_checkout, make_coupon, make_embed, make_field, make_shop
from tests.http import csrf_token_from, without_volatile

HOSTILE = "<script>alert('x')</script> & \"quoted\" Z{{ x }}"


@pytest.fixture
def shop(db, store):
    shop = make_shop(db, store)
    make_field(db, shop.page, label="Notes", key="notes", type="textarea")
    make_field(db, shop.page, label="Subscribe me", key="optin", type="checkbox")
    make_field(db, shop.page, label="Phone", key="phone", type="phone")
    db.commit()
    return shop


@pytest.fixture(autouse=True)
def no_stencils():
    stencil.forget_all()
    yield
    stencil.forget_all()


def full_page(client, monkeypatch, url: str) -> str:
    """The page as the full render makes it (the stencil told it covers nothing)."""
    with monkeypatch.context() as patched:
        patched.setattr(stencil, "covers", lambda *_: False)
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stencil_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    return response.get_data(as_text=True)


def session(db, shop, **values):
    answers = values.pop("answers", {})
    checkout = make_checkout(db, shop.page, **values)
    checkout.custom_fields = answers
    db.commit()
    return checkout


@pytest.mark.parametrize("first, second", [
    ({"email": "sam@example.com", "name": "Sam", "answers": {"company": "Initech", "color": "Blue"}},
     {"email": "o'brien+x@example.com", "name": HOSTILE, "answers": {"company": HOSTILE, "notes": "line 1\nline <2>",
                                                                    "phone": "+1 555", "color": "Blue"}}),
    ({"email": None, "name": None, "answers": {}}, {"email": None, "name": None, "answers": {"company": "&amp;"}}),
    ({"options": {"Size": "L"}, "answers": {"optin": "yes", "color": "Red"}},
     {"options": {"Size": "L"}, "answers": {"optin": "yes", "color": "Red", "notes": "</textarea><b>"}}),
])
def test_a_second_session_of_the_same_shape_gets_its_own_values(client, db, shop, monkeypatch, first, second):
    """The first session makes the stencil, the second is filled in from it: both pages are the
    full render's, escaped as Jinja escapes."""
    for values in (first, second):
        checkout = session(db, shop, **values)
        url = f"/c/s/{checkout.id}"
        assert without_volatile(stencil_page(client, url)) == without_volatile(full_page(client, monkeypatch, url))
    page = stencil_page(client, url)
    assert "<script>alert" not in page and checkout.id in page
    assert len(stencil._cache) == 1 and all(stencil._cache.values())  # one shape, served from its stencil


@pytest.mark.parametrize("provider", ["test", "stripe"])
def test_the_framed_page_is_stencilled_too_on_either_provider(client, db, store, shop, monkeypatch, provider):
    embed = make_embed(db, shop.page, theme="dark", brand_color="#aa3300")
    store.payment_provider = provider
    db.commit()
    for name in ("Ann", "Bob <b>"):
        checkout = session(db, shop, name=name)
        checkout.client_info = {"embedId": embed.public_id}
        db.commit()
        url = f"/embed/s/{checkout.id}?origin=https://shop.example"
        assert stencil_page(client, url) == full_page(client, monkeypatch, url)  # no CSRF token in the frame


def test_the_csrf_token_is_the_requests_own(client, db, shop):
    checkout = session(db, shop)
    stencil_page(client, f"/c/s/{checkout.id}")  # makes the stencil
    token = csrf_token_from(stencil_page(client, f"/c/s/{checkout.id}"))
    response = client.post(f"/c/s/{checkout.id}", data={
        "csrf_token": token, "email": "new@example.com", "field_company": "Initech", f"variant_{shop.size}": str(shop.small)})
    assert response.status_code == 303  # the token the stencil filled in is accepted


@pytest.mark.parametrize("shape", ["attempted", "coupon", "timed out", "ended"])
def test_sessions_it_does_not_cover_are_rendered_in_full(client, db, store, shop, monkeypatch, shape):
    values: dict = {}
    if shape == "coupon":
        values["coupon"] = make_coupon(db, store)
    if shape == "ended":
        values["state"] = CheckoutState.EXPIRED
    checkout = session(db, shop, **values)
    if shape == "attempted":
        checkout.attempt_count = 1
    if shape == "timed out":
        checkout.expires_at -= timedelta(hours=2)
    db.commit()
    url = f"/c/s/{checkout.id}"
    assert without_volatile(stencil_page(client, url)) == without_volatile(full_page(client, monkeypatch, url))
    assert not stencil._cache
