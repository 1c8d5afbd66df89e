"""The checkout of a subscription page, hosted and framed, with JavaScript off: the price per
period, the free trial (nothing due today, when the card is charged), how long a coupon lasts,
the button's words, and the success page's sentence about what happens next."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.catalog.embeds import create_embed
from checkie.catalog.models import Interval
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.payments.models import Payment, PaymentAttempt
from checkie.storefront.plans import day_text
from checkie.subscriptions import clock
from checkie.subscriptions.periods import period_after
from checkie.subscriptions.models import Subscription, SubscriptionStatus
from tests.factories import make_coupon, make_page
from tests.http import csrf_token_from, session_id_from

HTMX = {"HX-Request": "true"}
VISA = "4242 4242 4242 4242"
THREE_D_SECURE = "4000 0027 6000 3184"
RENEWALS_DECLINED = "4000 0000 0000 0341"


@pytest.fixture
def trial_page(db, store):
    """€9.00 a month after a 14-day free trial."""
    page = make_page(db, store, title="Club", slug="club", amount=900, currency="EUR", pricing_type="subscription",
                     interval="month", trial_days=14, publish=True)
    db.commit()
    return page


@pytest.fixture
def monthly_page(db, store):
    """$9.00 a month, paid today."""
    page = make_page(db, store, title="Box", slug="box", amount=900, pricing_type="subscription", interval="month",
                     publish=True)
    db.commit()
    return page


def text(response) -> str:
    """The page's text with tags removed and spaces collapsed, as a shopper reads it."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def today_plus(db, page, days: int = 0) -> str:
    return day_text(clock.now(db, page.store_id) + timedelta(days=days))


def pay(client, url: str, number: str = VISA, **extra):
    """Pay from the page at `url` itself (no session yet), as a shopper without JavaScript does."""
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/pay", data={
        "csrf_token": token, "email": "sam@example.com", "name": "Sam Shopper",
        "card_number": number, "card_expiry": "12/34", "card_cvc": "123", **extra,
    })


def apply_coupon(client, url: str, code: str) -> str:
    """Apply `code` on the page at `url` (a plain post: it opens the session); the session's URL."""
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "coupon_code": code, "coupon_action": "apply"})
    assert response.status_code == 303
    return response.headers["Location"]


def subscription_of(db) -> Subscription:
    db.expire_all()
    return db.scalars(sa.select(Subscription)).one()


# ---------------------------------------------------------------- the checkout page


def test_a_trial_page_says_nothing_is_due_today_and_when_the_card_is_charged(client, db, trial_page):
    page = text(client.get("/c/acme/club"))
    assert "€9.00 / month" in page and "14-day free trial" in page
    assert "Free trial 14 days" in page and "Due today €0.00" in page
    assert f"Then €9.00 / month from {today_plus(db, trial_page, 14)}." in page
    assert "Start free trial" in page and "Pay €" not in page and "Subscribe" not in page


def test_the_trial_ends_on_the_store_clock(client, db, store, trial_page):
    clock.advance(db, store.id, timedelta(days=30))
    db.commit()
    assert f"from {today_plus(db, trial_page, 14)}." in text(client.get("/c/acme/club"))
    assert today_plus(db, trial_page, 14) != day_text(utcnow() + timedelta(days=14))  # not the wall clock's date


def test_a_page_without_a_trial_charges_today_and_says_subscribe(client, db, monthly_page):
    page = text(client.get("/c/acme/box"))
    assert "$9.00 / month" in page and "Due today $9.00" in page and "free trial" not in page
    next_month = day_text(period_after(clock.now(db, monthly_page.store_id), Interval.MONTH, 1))
    assert f"Then $9.00 / month from {next_month}." in page
    assert re.search(r'<button[^>]*id="checkout-pay"[^>]*>Subscribe</button>', client.get("/c/acme/box").get_data(as_text=True))


def test_a_price_every_few_weeks_names_the_count(client, db, store):
    make_page(db, store, title="Veg", slug="veg", amount=500, pricing_type="subscription", interval="week",
              interval_count=2, publish=True)
    db.commit()
    page = text(client.get("/c/acme/veg"))
    assert "$5.00 every 2 weeks" in page and "Then $5.00 every 2 weeks from" in page


@pytest.mark.parametrize(("terms", "wording", "then"), [
    ({}, "10 % off the first payment", "$9.00"),
    ({"duration": "forever"}, "10 % off every payment", "$8.10"),
    ({"duration": "repeating", "duration_months": 3}, "10 % off for 3 months", "$9.00"),
    ({"amount_off": 200, "duration": "repeating", "duration_months": 1}, "$2.00 off for 1 month", "$9.00"),
])
def test_a_coupon_states_how_long_it_lasts(client, db, store, terms, wording, then):
    page = make_page(db, store, title="Box", slug="box", amount=900, pricing_type="subscription", interval="month",
                     allow_coupons=True, publish=True)
    make_coupon(db, store, code="SAVE", **terms)
    db.commit()
    shown = text(client.get(apply_coupon(client, "/c/acme/box", "SAVE")))
    assert f"SAVE {wording}" in shown and f"Then {then} / month from" in shown


def test_applying_a_coupon_with_htmx_swaps_its_terms_and_keeps_the_button(client, db, store, trial_page):
    make_coupon(db, store, code="SAVE", duration="forever")
    db.commit()
    token = csrf_token_from(client.get("/c/acme/club").get_data(as_text=True))
    response = client.post("/c/acme/club", headers=HTMX,
                           data={"csrf_token": token, "coupon_code": "SAVE", "coupon_action": "apply"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert re.search(r'id="checkout-summary"[^>]*hx-swap-oob="true"', html)
    assert "10 % off every payment" in html and "Then €8.10 / month from" in html
    assert re.search(r'id="checkout-pay"[^>]*hx-swap-oob="true"[^>]*>Start free trial<', html)


def test_the_framed_checkout_words_the_trial_the_same_up_to_its_success_page(app, db, trial_page):
    embed = create_embed(db, trial_page, type="inline")
    db.commit()
    frame = app.test_client(use_cookies=False)  # a third-party frame: no cookie, no CSRF token
    page = text(frame.get(f"/embed/{embed.public_id}"))
    assert "€9.00 / month" in page and "Due today €0.00" in page and "Start free trial" in page
    paid = frame.post(f"/embed/{embed.public_id}/pay", data={
        "email": "sam@example.com", "card_number": VISA, "card_expiry": "12/34", "card_cvc": "123"})
    assert paid.status_code == 303 and paid.headers["Location"].startswith("/embed/s/")
    trial_end = day_text(subscription_of(db).trial_end)
    assert f"Your trial ends on {trial_end}, then €9.00 every month." in text(frame.get(paid.headers["Location"]))


# ---------------------------------------------------------------- paying without JavaScript


def test_starting_a_trial_saves_the_card_and_says_when_it_ends(client, db, trial_page):
    response = pay(client, "/c/acme/club")
    assert response.status_code == 303
    session_id = session_id_from(response.headers["Location"])
    subscription = subscription_of(db)
    assert subscription.status is SubscriptionStatus.TRIALING and subscription.checkout_session_id == session_id
    assert db.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0

    done = text(client.get(f"/c/s/{session_id}"))
    assert "Your free trial has started" in done
    assert f"Your trial ends on {day_text(subscription.trial_end)}, then €9.00 every month." in done
    assert "Charged today €0.00" in done and "We emailed the details of your trial to sam@example.com" in done


def test_subscribing_without_a_trial_pays_now_and_names_the_next_payment(client, db, monthly_page):
    response = pay(client, "/c/acme/box")
    session_id = session_id_from(response.headers["Location"])
    subscription = subscription_of(db)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert db.scalars(sa.select(Payment.subscription_id)).one() == subscription.id

    done = text(client.get(f"/c/s/{session_id}"))
    next_on = day_text(subscription.current_period_end)
    assert f"You paid $9.00. Next payment of $9.00 on {next_on}." in done and "A receipt was sent to" in done


def test_the_next_payment_is_the_full_price_after_a_first_payment_coupon(client, db, store, monthly_page):
    make_coupon(db, store, code="SAVE")
    db.commit()
    session_url = apply_coupon(client, "/c/acme/box", "SAVE")
    done = text(client.get(pay(client, session_url).headers["Location"]))
    assert "You paid $8.10. Next payment of $9.00 on" in done


def test_the_card_whose_renewals_fail_is_accepted_at_checkout(client, db, monthly_page):
    response = pay(client, "/c/acme/box", number=RENEWALS_DECLINED)
    assert response.status_code == 303
    assert subscription_of(db).payment_method == "pm_card_chargeCustomerFail"
    assert "4000 0000 0000 0341" in client.get("/c/acme/box").get_data(as_text=True)  # listed among the test cards


def test_a_3ds_card_on_a_trial_page_confirms_the_card_then_starts_the_trial(client, db, trial_page):
    response = pay(client, "/c/acme/club", number=THREE_D_SECURE)
    attempt = db.scalars(sa.select(PaymentAttempt)).one()
    assert attempt.amount == 0 and response.headers["Location"] == f"/test-provider/3ds/{attempt.action_token}"
    session_id = attempt.session_id
    waiting = text(client.get(f"/c/s/{session_id}"))
    assert "Confirm your card" in waiting and "Nothing is charged today" in waiting

    threeds = client.get(response.headers["Location"])
    assert "Authenticate this card" in text(threeds)
    done = client.post(response.headers["Location"], data={
        "csrf_token": csrf_token_from(threeds.get_data(as_text=True)), "outcome": "complete"})
    assert done.headers["Location"] == f"/c/s/{session_id}"
    db.expire_all()
    assert db.get(CheckoutSession, session_id).state is CheckoutState.COMPLETED
    assert subscription_of(db).status is SubscriptionStatus.TRIALING
    assert "Your trial ends on" in text(client.get(f"/c/s/{session_id}"))


def test_a_one_time_success_page_is_unchanged(client, db, store):
    make_page(db, store, title="Mug", slug="mug", amount=1200, publish=True)
    db.commit()
    done = text(client.get(pay(client, "/c/acme/mug").headers["Location"]))
    assert "Thank you, your payment went through" in done and "You bought Mug for $12.00" in done
    assert "Total $12.00" in done and "Next payment" not in done and "trial" not in done
