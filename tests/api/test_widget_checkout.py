"""Paying through the widget API with the test provider: one-time checkout end to end, declines,
3DS, coupons and idempotent retries."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.catalog.models import Coupon, PageStats
from checkie.notifications.models import EmailMessage
from checkie.payments.models import (
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    TransactionType,
)
from tests.factories import make_coupon, make_shop
from tests.http import post_form
from tests.widget import WIDGET, WIDGET_SHOP, fill_in, open_checkout, pay, status

CHECKOUT_KEYS = {"sessionId", "status"}


@pytest.fixture
def shop(db, store):
    shop = make_shop(db, store, **WIDGET_SHOP)
    db.commit()
    return shop


@pytest.fixture
def session_id(client, store, shop) -> str:
    session_id = open_checkout(client, store, shop.page)["sessionId"]
    fill_in(client, session_id, variantOptions={str(shop.size): shop.large}, customFields={"company": "Initech", "color": "Red"})
    return session_id


def attempts_of(db, session_id: str) -> list[PaymentAttempt]:
    return list(db.scalars(sa.select(PaymentAttempt).where(PaymentAttempt.session_id == session_id)
                           .order_by(PaymentAttempt.number)))


def test_one_time_checkout_end_to_end(client, db, store, shop, session_id):
    response = pay(client, session_id)
    assert response.status_code == 200, response.json
    assert response.json == {"sessionId": session_id, "status": "completed"}

    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session_id))
    assert payment is not None
    assert status(client, session_id) == {
        "sessionId": session_id, "status": "completed", "attempts": 1, "paymentId": payment.id,
        "subscriptionId": None,
    }
    assert (payment.store_id, payment.amount, payment.currency.upper(), payment.email) == (
        store.id, 3000, "USD", "shopper@example.com")
    assert payment.fee == 87 and payment.net == 3000 - 87  # 2.9 % of 30.00, rounded half up

    ledger = list(db.scalars(sa.select(BalanceTransaction).where(BalanceTransaction.payment_id == payment.id)
                             .order_by(BalanceTransaction.sequence)))
    assert [(row.type, row.amount) for row in ledger] == [(TransactionType.PAYMENT, 3000), (TransactionType.FEE, -87)]
    assert ledger[-1].balance_after == 3000 - 87

    stats = db.get(PageStats, shop.page.id)
    db.refresh(stats)
    assert (stats.views, stats.sessions, stats.conversions, stats.revenue) == (1, 1, 1, 3000)

    receipts = list(db.scalars(sa.select(EmailMessage).where(EmailMessage.to_address == "shopper@example.com")))
    assert len(receipts) == 1 and "receipt" in receipts[0].kind


def test_three_declines_expire_the_session(client, db, session_id):
    for number, expected in ((1, "open"), (2, "open"), (3, "expired")):
        response = pay(client, session_id, "pm_card_chargeDeclined")
        assert response.status_code == 200, response.json
        assert response.json == {
            "sessionId": session_id, "status": expected,
            "error": {"code": "card_declined", "message": "Your card was declined."},
        }
        assert status(client, session_id)["attempts"] == number
    assert pay(client, session_id).status_code == 409
    assert db.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_a_decline_then_a_good_card_completes(client, session_id):
    declined = pay(client, session_id, "pm_card_insufficientFunds").json
    assert declined["status"] == "open" and declined["error"]["code"] == "insufficient_funds"
    assert pay(client, session_id).json["status"] == "completed"
    assert status(client, session_id)["attempts"] == 2


def test_three_d_secure_redirects_then_completes(client, db, session_id):
    response = pay(client, session_id, "pm_card_threeDSecureRequired")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "awaiting_action"
    assert body["nextAction"]["type"] == "redirect_to_url"
    url = body["nextAction"]["url"]
    assert "/test-provider/3ds/" in url
    polled = status(client, session_id)
    assert polled["status"] == "awaiting_action" and polled["nextAction"] == body["nextAction"]
    assert "paymentId" not in polled

    path = url.removeprefix("http://localhost")
    assert post_form(client, path, {"outcome": "complete"}).status_code == 303
    done = status(client, session_id)
    assert done["status"] == "completed" and "nextAction" not in done
    assert done["paymentId"] == db.scalar(sa.select(Payment.id).where(Payment.session_id == session_id))


def test_checkout_refuses_an_unpayable_session_with_its_reasons(client, store, shop):
    session_id = open_checkout(client, store, shop.page)["sessionId"]
    response = pay(client, session_id)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"email", "customFields.company"}  # every failing field at once (issue 10, item 6)
    assert status(client, session_id) == {"sessionId": session_id, "status": "open", "attempts": 0,
                                          "subscriptionId": None}


def test_checkout_needs_a_session_id(client):
    response = client.post(f"{WIDGET}/checkout", json={"paymentMethod": "pm_card_visa"})
    assert response.status_code == 422 and "sessionId" in response.json["error"]["fields"]


def test_a_coupon_discounts_what_is_charged(client, db, store, session_id):
    make_coupon(db, store, code="SAVE10", max_redemptions=5)
    db.commit()
    patched = client.patch(f"{WIDGET}/sessions/{session_id}", json={"couponCode": "SAVE10"}).json
    assert patched["amount"] == {"subtotal": 3000, "discount": 300, "total": 2700, "currency": "USD",
                                 "dueNow": 2700}
    assert pay(client, session_id).json["status"] == "completed"
    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session_id))
    assert payment.amount == 2700
    assert db.scalar(sa.select(Coupon.redemption_count).where(Coupon.code == "SAVE10")) == 1


def test_an_idempotent_retry_replays_the_first_answer(client, db, session_id):
    headers = {"Idempotency-Key": "pay-once-1"}
    first = pay(client, session_id, headers=headers)
    second = pay(client, session_id, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json == first.json == {"sessionId": session_id, "status": "completed"}
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert len(attempts_of(db, session_id)) == 1


def test_the_same_key_with_another_body_is_refused(client, session_id):
    headers = {"Idempotency-Key": "pay-once-2"}
    assert pay(client, session_id, "pm_card_chargeDeclined", headers=headers).status_code == 200
    response = pay(client, session_id, "pm_card_visa", headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"


def test_keys_are_scoped_to_their_session(client, db, store, shop, session_id):
    other = open_checkout(client, store, shop.page)["sessionId"]
    fill_in(client, other)
    headers = {"Idempotency-Key": "same-key"}
    assert pay(client, session_id, headers=headers).json["status"] == "completed"
    answer = pay(client, other, headers=headers)
    assert answer.json == {"sessionId": other, "status": "completed"}
    assert "Idempotent-Replayed" not in answer.headers


def test_failed_authentication_reopens_the_session(client, db, session_id):
    url = pay(client, session_id, "pm_card_threeDSecureRequired").json["nextAction"]["url"]
    assert post_form(client, url.removeprefix("http://localhost"), {"outcome": "fail"}).status_code == 303
    assert status(client, session_id) == {"sessionId": session_id, "status": "open", "attempts": 1,
                                          "subscriptionId": None}
    assert pay(client, session_id).json["status"] == "completed"


def test_payment_method_must_be_a_string(client, session_id):
    response = client.post(f"{WIDGET}/checkout", json={"sessionId": session_id, "paymentMethod": 4242})
    assert response.status_code == 422 and "paymentMethod" in response.json["error"]["fields"]
    assert status(client, session_id)["attempts"] == 0


CARD_NUMBER = "4111111111111111"


def _tables_mentioning(db, text: str) -> list[str]:
    """Every table with a row whose text (any column) contains `text`."""
    found = []
    for table in sa.inspect(db.get_bind()).get_table_names():
        rows = db.execute(sa.text(f'SELECT CAST(t AS text) FROM "{table}" t')).scalars()
        if any(text in row for row in rows):
            found.append(table)
    return found


@pytest.mark.parametrize("method", [CARD_NUMBER, "4242 4242 4242 4242", "pm_card_bogus", ""])
def test_an_unknown_payment_method_is_refused_before_anything_is_written(client, db, session_id, method, caplog):
    before = _tables_mentioning(db, session_id)
    response = client.post(f"{WIDGET}/checkout", json={"sessionId": session_id, "paymentMethod": method},
                           headers={"Idempotency-Key": "card-number"})
    assert response.status_code == 422
    assert "pm_card_visa" in response.json["error"]["fields"]["paymentMethod"][0]
    assert status(client, session_id) == {"sessionId": session_id, "status": "open", "attempts": 0,
                                          "subscriptionId": None}
    assert db.scalar(sa.select(sa.func.count()).select_from(PaymentAttempt)) == 0
    assert _tables_mentioning(db, session_id) == before
    assert method == "" or _tables_mentioning(db, method) == []
    assert method == "" or method not in caplog.text + response.get_data(as_text=True)
