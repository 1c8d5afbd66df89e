"""Checkie on Stripe end to end, against localstripe (tests/providers/localstripe.py).

Checkie is driven only through its public interfaces: the widget JSON API (as the checkout frame
with Stripe.js), the merchant JSON API, and POST /api/webhooks/stripe. localstripe sends its
signed events to a loopback WebhookInbox, and `relay` hands each delivery's exact bytes and
`Stripe-Signature` header to Checkie: that is Stripe's event reaching Checkie.

Where localstripe does not do what Stripe does, the event Stripe would send is built from
localstripe's own object (retrieved through its API) and signed with the store's webhook secret,
as Stripe signs it (`stripe_event`):
- a failed 3-D Secure authentication (`_authenticate?success=false`) sends no event; Stripe
  sends `payment_intent.payment_failed` with `payment_intent_authentication_failure`;
- a payout stays `pending` and sends no `payout.paid` (it sends one only for a payout created
  with a `status`, which Stripe's API does not take), and no payout can fail after it was made;
- a setup intent's confirmation, a refund and a customer's card send no event Checkie reads.
"""
from __future__ import annotations

import json
import time

import pytest
import requests
import sqlalchemy as sa

from checkie.notifications.models import EmailMessage
from checkie.payments.models import BalanceTransaction, Payment, PaymentAttempt, ProviderEvent, TransactionType
from checkie.providers.stripe import sign_payload
from tests.factories import make_shop
from tests.providers.localstripe import PUBLISHABLE_KEY, SECRET_KEY, STORE_WEBHOOK_SECRET, Delivery, WebhookInbox
from tests.widget import WIDGET_SHOP, fill_in, open_checkout, pay, status

#: The event types Checkie reads (checkie.providers.stripe), which localstripe is told to send.
CHECKIE_EVENTS = [
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
    "setup_intent.succeeded", "setup_intent.setup_failed", "setup_intent.requires_action",
    "payout.paid", "payout.failed",
]
VISA = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
DECLINED_WHEN_SAVED = "4000000000000002"
DECLINED_WHEN_CHARGED = "4000000000000341"
WEBHOOK_URL = "/api/webhooks/stripe"


@pytest.fixture
def inbox(localstripe):
    """localstripe's webhook endpoint for this test: the store's secret, the events Checkie reads."""
    inbox = WebhookInbox().start()
    localstripe.configure_webhook("checkie-end-to-end", url=inbox.url, secret=STORE_WEBHOOK_SECRET, events=CHECKIE_EVENTS)
    yield inbox
    inbox.stop()


@pytest.fixture
def shop(db, stripe_store):
    shop = make_shop(db, stripe_store, **WIDGET_SHOP)
    db.commit()
    return shop


@pytest.fixture
def session_id(client, stripe_store, shop) -> str:
    session_id = open_checkout(client, stripe_store, shop.page)["sessionId"]
    fill_in(client, session_id)
    return session_id


def card_token(localstripe, number: str) -> str:
    """A single-use card token, made as Stripe.js's createToken makes it: with the publishable key."""
    response = requests.post(f"{localstripe.api_base}/v1/tokens", timeout=10, data={
        "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123",
        "key": PUBLISHABLE_KEY,
    })
    assert response.status_code == 200, response.text
    return response.json()["id"]


def stripe_get(localstripe, path: str) -> dict:
    response = requests.get(f"{localstripe.api_base}/v1/{path}", auth=(SECRET_KEY, ""), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def delivered(inbox: WebhookInbox, event_type: str, object_id: str) -> Delivery:
    """localstripe's delivery of `event_type` about `object_id`."""
    def matches(delivery: Delivery) -> bool:
        event = json.loads(delivery.body)
        return event["type"] == event_type and event["data"]["object"]["id"] == object_id

    return inbox.wait_for(matches)


def relay(client, delivery: Delivery):
    """Stripe's signed event reaching Checkie: the same bytes, the same signature."""
    return client.post(WEBHOOK_URL, data=delivery.body, headers={
        "Content-Type": "application/json", "Stripe-Signature": delivery.headers["stripe-signature"],
    })


def stripe_event(event_type: str, obj: dict, *, secret: str = STORE_WEBHOOK_SECRET, event_id: str | None = None,
                 timestamp: int | None = None) -> Delivery:
    """The event Stripe would send about `obj` where localstripe sends none, signed as Stripe signs."""
    body = json.dumps({
        "id": event_id or f"evt_built_{event_type.replace('.', '_')}_{obj['id']}", "object": "event", "type": event_type,
        "created": int(time.time()), "livemode": False, "data": {"object": obj},
    }).encode()
    return Delivery({"stripe-signature": sign_payload(body, secret, timestamp=timestamp)}, body)


def attempts_of(db, session_id: str) -> list[PaymentAttempt]:
    return list(db.scalars(sa.select(PaymentAttempt).where(PaymentAttempt.session_id == session_id)
                           .order_by(PaymentAttempt.number)))


def count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- one-time payments


def test_a_card_token_pays_a_one_time_checkout_and_stripes_event_repeats_it_to_no_effect(
        client, db, localstripe, inbox, session_id):
    answer = pay(client, session_id, card_token(localstripe, VISA))

    assert answer.status_code == 200, answer.json
    assert (answer.json["sessionId"], answer.json["status"]) == (session_id, "completed")
    [attempt] = attempts_of(db, session_id)
    intent = stripe_get(localstripe, f"payment_intents/{attempt.provider_intent_id}")
    assert (intent["status"], intent["amount"], intent["metadata"]["checkout_session_id"]) == ("succeeded", 2500, session_id)

    assert relay(client, delivered(inbox, "payment_intent.succeeded", attempt.provider_intent_id)).status_code == 200

    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session_id))
    assert status(client, session_id)["paymentId"] == payment.id
    assert count(db, Payment) == 1
    ledger = list(db.scalars(sa.select(BalanceTransaction).where(BalanceTransaction.payment_id == payment.id)
                             .order_by(BalanceTransaction.sequence)))
    assert [row.type for row in ledger] == [TransactionType.PAYMENT, TransactionType.FEE]
    assert count(db, EmailMessage, EmailMessage.to_address == "shopper@example.com") == 1
    assert count(db, ProviderEvent, ProviderEvent.provider == "stripe") == 1
