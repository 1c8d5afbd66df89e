"""Dashboard: checkout sessions — list with a state filter and keyset pages, htmx fragment,
detail with the transition history and the payment attempts; tenants."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checkie.checkout.models import CheckoutState as S
from checkie.dashboard import checkouts
from checkie.database import utcnow
from checkie.payments.models import AttemptStatus
from tests.factories import (
    make_attempt,
    make_checkout,
    make_page,
    make_payment,
    make_store,
)
from tests.http import HX, login_as


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/sessions{rest}"


@pytest.fixture
def owner_client(client, user):
    login_as(client, user)
    return client


def test_list_filters_by_state_and_pages(owner_client, db, store, monkeypatch):
    monkeypatch.setattr(checkouts, "PAGE_SIZE", 2)
    now = utcnow()
    made = [make_checkout(db, make_page(db, store), state=S.EXPIRED if n == 1 else S.OPEN, email=f"s{n}@example.com",
                         created_at=now - timedelta(minutes=10 - n)) for n in range(4)]
    db.commit()
    first = owner_client.get(url(store)).get_data(as_text=True)
    assert "s3@example.com" in first and "s2@example.com" in first and "s1@example.com" not in first
    assert f"after={made[2].id}" in first
    second = owner_client.get(url(store), query_string={"after": made[2].id}).get_data(as_text=True)
    assert "s1@example.com" in second and "s0@example.com" in second and "s2@example.com" not in second
    expired = owner_client.get(url(store), query_string={"state": "expired"}).get_data(as_text=True)
    assert "s1@example.com" in expired and "s0@example.com" not in expired
    stale = owner_client.get(url(store), query_string={"after": "cs_nothing"})
    assert stale.status_code == 200 and "s3@example.com" in stale.get_data(as_text=True)


def test_htmx_gets_the_list_block(owner_client, db, store):
    make_checkout(db, make_page(db, store), email="frag@example.com")
    db.commit()
    response = owner_client.get(url(store), query_string={"state": "open"}, headers=HX)
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="session-list"' in body and "frag@example.com" in body


def test_detail_shows_history_and_attempts(owner_client, db, store):
    checkout = make_checkout(db, make_page(db, store), state=S.COMPLETED, total=4200, history=[
        (S.OPEN, "INITIATE_PAYMENT", S.PROCESSING), (S.PROCESSING, "PAYMENT_FAILED", S.OPEN),
        (S.OPEN, "INITIATE_PAYMENT", S.PROCESSING), (S.PROCESSING, "PAYMENT_SUCCEEDED", S.COMPLETED),
    ])
    make_attempt(db, checkout, status=AttemptStatus.FAILED, intent_id="pi_first", failure_code="card_declined")
    make_attempt(db, checkout, status=AttemptStatus.SUCCEEDED, intent_id="pi_second")
    payment = make_payment(db, store, amount=4200, session=checkout)
    db.commit()
    page = owner_client.get(url(store, f"/{checkout.id}")).get_data(as_text=True)
    assert page.count('class="transition"') == 4
    assert page.index("Payment failed") < page.index("Payment succeeded")
    assert "INITIATE_PAYMENT" not in page and page.count("Payment started") == 2
    assert "pi_first" in page and "card_declined" in page and "pi_second" in page and "$42.00" in page
    assert f"/payments/{payment.id}" in page


def test_history_folds_consecutive_detail_updates_into_one_line_in_words(owner_client, db, store):
    checkout = make_checkout(db, make_page(db, store), state=S.OPEN, history=[
        (S.OPEN, "UPDATE_SESSION", S.OPEN), (S.OPEN, "UPDATE_SESSION", S.OPEN), (S.OPEN, "UPDATE_SESSION", S.OPEN),
        (S.OPEN, "INITIATE_PAYMENT", S.PROCESSING), (S.PROCESSING, "PAYMENT_FAILED", S.OPEN),
        (S.OPEN, "UPDATE_SESSION", S.OPEN),
    ])
    changes = [["email"], ["email", "name"], ["custom_fields"], None, None, ["coupon_code"]]
    for transition, changed in zip(checkout.transitions, changes, strict=True):
        if changed:
            transition.detail = {"changed": changed}
    checkout.transitions[4].detail = {"attempt": 1, "code": "card_declined", "message": "Your card was declined."}
    db.commit()
    page = owner_client.get(url(store, f"/{checkout.id}")).get_data(as_text=True)
    assert page.count('class="transition"') == 4  # three updates in a row are one line
    assert page.count("Details updated") == 2 and "(3 times since" in page
    assert "Changed: email, name, answers" in page and "Changed: coupon" in page
    assert "card_declined" in page and "Your card was declined." in page
    assert "UPDATE_SESSION" not in page


def test_another_stores_session_is_a_404(owner_client, db, store):
    foreign = make_checkout(db, make_page(db, make_store(db, name="Other")))
    db.commit()
    assert owner_client.get(url(store, f"/{foreign.id}")).status_code == 404
    assert owner_client.get(url(store, "/" + "x" * 100)).status_code == 404
