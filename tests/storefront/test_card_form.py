"""The TEST MODE card form over HTTP, JavaScript off (issue 10, item 5): card numbers and expiries
are read as shoppers type or paste them on a phone, and a card past its expiry is refused beside
the expiry field, as Stripe's test mode declines it (`expired_card`), before any attempt is made."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.payments.models import PaymentAttempt
from tests.factories import make_shop
from tests.http import csrf_token_from

EXPIRED = '<small id="checkout-card_expiry-error" class="field-error">Your card has expired.</small>'
EMAIL = "sam@example.com"


@pytest.fixture
def shop_page(db, store):
    page = make_shop(db, store).page
    db.commit()
    return page


def _pay(client, page, *, number: str = "4242 4242 4242 4242", expiry: str):
    """Open the page as a shopper and press Pay with the card as typed (its form's own pay URL)."""
    html = client.get(f"/c/{page.store.slug}/{page.slug}", follow_redirects=True).get_data(as_text=True)
    pay_button = re.search(r'<button[^>]*class="checkout-pay"[^>]*>', html)
    assert pay_button, "no Pay button on the page"
    variant = page.variants[0]
    return client.post(re.search(r'formaction="([^"]+)"', pay_button[0])[1], data={
        "csrf_token": csrf_token_from(html), "email": EMAIL, f"variant_{variant.id}": str(variant.options[0].id),
        "field_company": "Initech", "card_number": number, "card_expiry": expiry, "card_cvc": "123",
    })


def _states(db) -> list[CheckoutState]:
    db.expire_all()
    return list(db.scalars(sa.select(CheckoutSession.state)))


def _month(offset: int) -> str:
    """This month moved by `offset` months, as MM/YY."""
    today = utcnow()
    year, month = divmod(today.year * 12 + today.month - 1 + offset, 12)
    return f"{month + 1:02d}/{year % 100:02d}"


@pytest.mark.parametrize(("number", "expiry"), [
    ("4242424242424242", "1299"),
    ("4242-4242-4242-4242", "12/99"),
    ("4242 4242 4242 4242", "12 / 2099"),
    (" 4242 4242 4242 4242 ", "1/99"),
    ("4242 4242 4242 4242", "122099"),
])
def test_numbers_and_expiries_are_read_as_typed_on_a_phone(client, db, shop_page, number, expiry):
    response = _pay(client, shop_page, number=number, expiry=expiry)
    assert response.status_code == 303
    assert _states(db) == [CheckoutState.COMPLETED]


def test_a_card_expiring_this_month_is_accepted(client, db, shop_page):
    response = _pay(client, shop_page, expiry=_month(0))
    assert response.status_code == 303
    assert _states(db) == [CheckoutState.COMPLETED]


@pytest.mark.parametrize("expiry", [_month(-1), "01/20", "0120", "12 / 2001"])
def test_a_past_expiry_is_refused_beside_the_field_without_an_attempt(client, db, shop_page, expiry):
    response = _pay(client, shop_page, expiry=expiry)
    assert response.status_code == 422
    assert EXPIRED in response.get_data(as_text=True)
    assert set(_states(db)) <= {CheckoutState.OPEN}
    assert db.scalar(sa.select(sa.func.count(PaymentAttempt.id))) == 0


@pytest.mark.parametrize("expiry", ["13/99", "130", "12/9", "00/99", "12//99", "ab/cd"])
def test_an_expiry_that_is_no_date_asks_for_mm_yy(client, db, shop_page, expiry):
    response = _pay(client, shop_page, expiry=expiry)
    assert response.status_code == 422
    assert '<small id="checkout-card_expiry-error" class="field-error">Enter the expiry as MM/YY.</small>' in \
        response.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count(PaymentAttempt.id))) == 0

