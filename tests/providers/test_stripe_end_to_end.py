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
- a setup intent's confirmation sends no `setup_intent.succeeded` (a trial starts on the
  synchronous answer alone, as it does with Stripe when the event comes later).
Other differences the tests follow: 4000 0000 0000 0002 declines as its token is saved to a
customer, before any intent (no event then); the charge-time decline is 4000 0000 0000 0341,
which also declines an off-session renewal. localstripe pays out `eur` only, so the payout test's
store sells in euros.
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from checkie.extensions import db as _db
from checkie.notifications.models import EmailMessage
from checkie.payments.models import (
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    Payout,
    PayoutStatus,
    ProviderEvent,
    TransactionType,
)
from checkie.providers.stripe import sign_payload
from checkie.stores.payment_settings import update_payment_settings
from tests.factories import make_page, make_shop, make_store
from tests.http import access_token_for, bearer
from tests.providers.localstripe import PUBLISHABLE_KEY, SECRET_KEY, STORE_WEBHOOK_SECRET, Delivery, WebhookInbox
from tests.widget import WIDGET_SHOP, fill_in, open_checkout, patch_session, pay, status

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


def authenticate(localstripe, intent_id: str, client_secret: str, *, success: bool) -> dict:
    """The shopper's 3-D Secure answer, as localstripe's Stripe.js (confirmCardPayment) sends it."""
    response = requests.post(
        f"{localstripe.api_base}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}",
        data=json.dumps({"key": PUBLISHABLE_KEY, "client_secret": client_secret}), timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_3ds_card_awaits_the_shopper_and_stripes_event_completes_the_checkout(client, db, localstripe, inbox, session_id):
    answer = pay(client, session_id, card_token(localstripe, THREE_D_SECURE)).json

    assert answer["status"] == "awaiting_action" and answer["clientSecret"]
    [attempt] = attempts_of(db, session_id)
    assert status(client, session_id)["status"] == "awaiting_action"

    authenticate(localstripe, attempt.provider_intent_id, answer["clientSecret"], success=True)
    assert relay(client, delivered(inbox, "payment_intent.succeeded", attempt.provider_intent_id)).status_code == 200

    done = status(client, session_id)
    assert done["status"] == "completed"
    assert done["paymentId"] == db.scalar(sa.select(Payment.id).where(Payment.session_id == session_id))


def test_a_failed_3ds_authentication_reopens_the_checkout_for_another_card(client, db, localstripe, inbox, session_id):
    answer = pay(client, session_id, card_token(localstripe, THREE_D_SECURE)).json
    [attempt] = attempts_of(db, session_id)

    intent = authenticate(localstripe, attempt.provider_intent_id, answer["clientSecret"], success=False)
    # localstripe sends nothing here; Stripe sends payment_failed with the authentication's error.
    assert intent["status"] == "requires_payment_method"
    failed = {**intent, "last_payment_error": {
        "type": "card_error", "code": "payment_intent_authentication_failure",
        "message": "We are unable to authenticate your payment method."}}
    assert relay(client, stripe_event("payment_intent.payment_failed", failed)).status_code == 200

    assert status(client, session_id) == {"sessionId": session_id, "status": "open", "attempts": 1, "subscriptionId": None}
    assert pay(client, session_id, card_token(localstripe, VISA)).json["status"] == "completed"
    assert count(db, Payment) == 1


def test_a_card_declined_as_it_is_saved_leaves_the_checkout_open_and_a_good_card_completes_it(
        client, db, localstripe, inbox, session_id):
    declined = pay(client, session_id, card_token(localstripe, DECLINED_WHEN_SAVED)).json

    assert declined["status"] == "open" and declined["error"]["code"] == "card_declined"
    assert status(client, session_id)["attempts"] == 1
    [attempt] = attempts_of(db, session_id)
    assert attempt.failure_code == "card_declined"

    assert pay(client, session_id, card_token(localstripe, VISA)).json["status"] == "completed"
    assert status(client, session_id)["attempts"] == 2
    assert count(db, Payment) == 1


def test_a_card_declined_when_charged_fails_with_stripes_event_a_no_op(client, db, localstripe, inbox, session_id):
    declined = pay(client, session_id, card_token(localstripe, DECLINED_WHEN_CHARGED)).json

    assert declined["status"] == "open" and declined["error"]["code"] == "card_declined"
    [attempt] = attempts_of(db, session_id)
    assert relay(client, delivered(inbox, "payment_intent.payment_failed", attempt.provider_intent_id)).status_code == 200
    assert status(client, session_id)["attempts"] == 1 and count(db, Payment) == 0


# ---------------------------------------------------------------- the merchant's side


def test_a_refund_through_the_merchant_api_is_made_at_stripe_and_booked(app, client, db, localstripe, inbox, session_id,
                                                                           stripe_store, user):
    pay(client, session_id, card_token(localstripe, VISA))
    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session_id))

    response = client.post(f"/api/stores/{stripe_store.id}/payments/{payment.id}/refund", json={"amount": 1000},
                           headers=bearer(access_token_for(app, user)))

    assert response.status_code == 201, response.json
    assert response.json["status"] == "succeeded"
    [attempt] = attempts_of(db, session_id)
    refunds = stripe_get(localstripe, f"refunds?payment_intent={attempt.provider_intent_id}")["data"]
    assert [(refund["amount"], refund["status"]) for refund in refunds] == [(1000, "succeeded")]
    db.expire_all()
    assert [row.amount for row in db.scalars(sa.select(BalanceTransaction).where(
        BalanceTransaction.payment_id == payment.id, BalanceTransaction.type == TransactionType.REFUND))] == [-1000]


# ---------------------------------------------------------------- subscriptions

TRIAL_DAYS = 7


def subscribe_with(client, db, store, localstripe, card: str, *, slug: str) -> dict:
    """A shopper's widget checkout of a subscription page with a free trial, paid with a card token."""
    page = make_page(db, store, title="Coffee club", slug=slug, amount=900, pricing_type="subscription", interval="month",
                     trial_days=TRIAL_DAYS, publish=True)
    db.commit()
    session_id = open_checkout(client, store, page)["sessionId"]
    assert patch_session(client, session_id, {"email": "subscriber@example.com", "name": "Sam"}).status_code == 200
    answer = pay(client, session_id, card_token(localstripe, card))
    assert answer.status_code == 200, answer.json
    return status(client, session_id)


def test_a_trial_bought_with_a_card_token_renews_off_session_through_stripe(app, client, db, localstripe, inbox,
                                                                           stripe_store, user):
    auth = bearer(access_token_for(app, user))
    bought = subscribe_with(client, db, stripe_store, localstripe, VISA, slug="coffee")
    url = f"/api/stores/{stripe_store.id}/subscriptions/{bought['subscriptionId']}"

    assert bought["status"] == "completed"
    trialing = client.get(url, headers=auth).json
    assert (trialing["status"], trialing["payments"]) == ("trialing", [])
    [attempt] = attempts_of(db, bought["sessionId"])
    assert attempt.provider_intent_id.startswith("seti_") and attempt.provider_customer_id.startswith("cus_")

    advanced = client.post(f"/api/stores/{stripe_store.id}/test-clock/advance", json={"days": TRIAL_DAYS + 1}, headers=auth)

    assert advanced.status_code == 200 and advanced.json["renewals"] == 1
    active = client.get(url, headers=auth).json
    assert active["status"] == "active" and [p["amount"] for p in active["payments"]] == [900]
    renewal = db.scalar(sa.select(Payment).where(Payment.store_id == stripe_store.id))
    charge = stripe_get(localstripe, f"payment_intents/{renewal.provider_payment_id}")
    assert (charge["amount"], charge["status"], charge["customer"]) == (900, "succeeded", attempt.provider_customer_id)
    # Stripe's own word on the renewal's charge changes nothing more.
    assert relay(client, delivered(inbox, "payment_intent.succeeded", charge["id"])).status_code == 200
    assert len(client.get(url, headers=auth).json["payments"]) == 1


def test_a_renewal_stripe_declines_makes_the_subscription_past_due(app, client, db, localstripe, inbox, stripe_store, user):
    auth = bearer(access_token_for(app, user))
    bought = subscribe_with(client, db, stripe_store, localstripe, DECLINED_WHEN_CHARGED, slug="coffee-declined")
    url = f"/api/stores/{stripe_store.id}/subscriptions/{bought['subscriptionId']}"

    advanced = client.post(f"/api/stores/{stripe_store.id}/test-clock/advance", json={"days": TRIAL_DAYS + 1}, headers=auth)

    assert advanced.status_code == 200 and advanced.json["renewals"] == 0
    past_due = client.get(url, headers=auth).json
    assert (past_due["status"], past_due["payments"]) == ("past_due", [])


# ---------------------------------------------------------------- payouts

BANK_ACCOUNT = {"accountHolderName": "Ada Lovelace", "routingNumber": "110000000", "accountNumber": "000123456789"}


@pytest.fixture
def euro_store(client, db, localstripe, stripe_store):
    """The Stripe store selling in euros (localstripe pays out `eur` only), with one sale's money."""
    stripe_store.currency = "EUR"
    page = make_page(db, stripe_store, title="Espresso", slug="espresso", amount=10_000, publish=True)
    db.commit()
    session_id = open_checkout(client, stripe_store, page)["sessionId"]
    patch_session(client, session_id, {"email": "shopper@example.com", "name": "Sam"})
    assert pay(client, session_id, card_token(localstripe, VISA)).json["status"] == "completed"
    return stripe_store


def balance(client, store, auth) -> int:
    [eur] = client.get(f"/api/stores/{store.id}/balance", headers=auth).json["balances"]
    return eur["available"]


def test_payouts_are_made_at_stripe_and_its_later_failure_is_reversed_once(app, client, db, localstripe, euro_store, user):
    auth = bearer(access_token_for(app, user))
    assert client.put(f"/api/stores/{euro_store.id}/payout-account", json=BANK_ACCOUNT, headers=auth).status_code == 200
    funds = balance(client, euro_store, auth)

    # The payout task runs as the request commits (Huey's immediate mode in the tests).
    first = client.post(f"/api/stores/{euro_store.id}/payouts", json={"amount": 3_000, "currency": "eur"}, headers=auth)
    second = client.post(f"/api/stores/{euro_store.id}/payouts", json={"amount": 2_000, "currency": "eur"}, headers=auth)
    assert (first.status_code, second.status_code) == (201, 201)
    paid, failing = (db.get(Payout, answer.json["id"]) for answer in (first, second))
    db.refresh(paid)
    db.refresh(failing)
    assert (paid.status, failing.status) == (PayoutStatus.PAID, PayoutStatus.PAID)  # accepted counts as paid
    at_stripe = stripe_get(localstripe, f"payouts/{paid.provider_payout_id}")
    assert (at_stripe["amount"], at_stripe["currency"], at_stripe["status"]) == (3_000, "eur", "pending")
    assert at_stripe["metadata"] == {"store_id": str(euro_store.id), "payout_id": str(paid.id), "account_last4": "6789"}
    assert balance(client, euro_store, auth) == funds - 5_000

    # Stripe's later word, built from localstripe's payout objects (it sends none for these).
    assert relay(client, stripe_event("payout.paid", {**at_stripe, "status": "paid"})).status_code == 200
    failure = stripe_event("payout.failed", {
        **stripe_get(localstripe, f"payouts/{failing.provider_payout_id}"), "status": "failed",
        "failure_code": "account_closed", "failure_message": "The bank account has been closed."})
    assert [relay(client, failure).status_code for _ in range(2)] == [200, 200]

    shown = client.get(f"/api/stores/{euro_store.id}/payouts/{failing.id}", headers=auth).json
    assert (shown["status"], shown["failureCode"]) == ("failed", "account_closed")
    assert client.get(f"/api/stores/{euro_store.id}/payouts/{paid.id}", headers=auth).json["status"] == "paid"
    assert balance(client, euro_store, auth) == funds - 3_000
    db.expire_all()
    assert [row.amount for row in db.scalars(sa.select(BalanceTransaction).where(
        BalanceTransaction.payout_id == failing.id).order_by(BalanceTransaction.sequence))] == [-2_000, 2_000]


# ---------------------------------------------------------------- what reaches the intake

PLATFORM_SECRET = "whsec_checkie_platform_end_to_end"


@pytest.fixture
def awaiting(client, db, localstripe, inbox, session_id) -> tuple[str, Delivery]:
    """A 3-D Secure checkout the shopper authenticated, and Stripe's signed event that completes it."""
    answer = pay(client, session_id, card_token(localstripe, THREE_D_SECURE)).json
    [attempt] = attempts_of(db, session_id)
    authenticate(localstripe, attempt.provider_intent_id, answer["clientSecret"], success=True)
    return session_id, delivered(inbox, "payment_intent.succeeded", attempt.provider_intent_id)


def test_one_delivery_relayed_twice_and_twenty_times_at_once_completes_the_checkout_once(app, client, db, awaiting):
    session_id, delivery = awaiting
    statuses: list[int] = []
    start = threading.Barrier(20)

    def deliver() -> None:
        with app.app_context():
            start.wait(timeout=30)
            statuses.append(relay(app.test_client(), delivery).status_code)
            _db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert relay(client, delivery).status_code == 200

    assert statuses == [200] * 20
    assert status(client, session_id)["status"] == "completed"
    assert count(db, Payment) == 1 and count(db, ProviderEvent) == 1
    assert count(db, EmailMessage, EmailMessage.to_address == "shopper@example.com") == 1


def tampered(delivery: Delivery) -> Delivery:
    event = json.loads(delivery.body)
    event["data"]["object"]["amount"] = 1
    return Delivery(delivery.headers, json.dumps(event).encode())


def resigned(delivery: Delivery, secret: str, *, timestamp: int | None = None) -> Delivery:
    return Delivery({"stripe-signature": sign_payload(delivery.body, secret, timestamp=timestamp)}, delivery.body)


@pytest.mark.parametrize("forge", [
    pytest.param(lambda delivery, other: resigned(delivery, "whsec_not_the_stores"), id="wrong-secret"),
    pytest.param(lambda delivery, other: tampered(delivery), id="altered-body"),
    pytest.param(lambda delivery, other: resigned(delivery, other), id="another-stores-secret"),
    pytest.param(lambda delivery, other: resigned(delivery, PLATFORM_SECRET), id="platform-secret-for-a-store-with-keys"),
    pytest.param(lambda delivery, other: resigned(delivery, STORE_WEBHOOK_SECRET, timestamp=int(time.time()) - 600),
                 id="old-timestamp"),
])
def test_a_forged_event_is_400_and_stores_nothing(app, client, db, awaiting, user, forge, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", PLATFORM_SECRET)
    other = make_store(db, owner=user, name="Other Goods")
    update_payment_settings(db, other, provider="stripe", publishable_key=PUBLISHABLE_KEY, secret_key=SECRET_KEY,
                            webhook_secret="whsec_the_other_stores")
    db.commit()
    session_id, delivery = awaiting

    response = relay(client, forge(delivery, "whsec_the_other_stores"))

    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_signature"
    assert count(db, ProviderEvent) == 0 and status(client, session_id)["status"] == "awaiting_action"
    assert relay(client, delivery).status_code == 200  # the genuine event still goes through
    assert status(client, session_id)["status"] == "completed"


def unknown_payout_event(store_id: object) -> Delivery:
    return stripe_event("payout.paid", {"id": "po_unknown", "object": "payout", "metadata": {"store_id": store_id}})


def test_an_event_naming_a_store_without_keys_verifies_with_the_platform_secret(app, client, db, user, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", PLATFORM_SECRET)
    keyless = make_store(db, owner=user, name="Keyless Goods")
    db.commit()
    event = unknown_payout_event(str(keyless.id))

    assert relay(client, resigned(event, STORE_WEBHOOK_SECRET)).status_code == 400
    assert relay(client, resigned(event, PLATFORM_SECRET)).status_code == 200
    assert count(db, ProviderEvent) == 1


@pytest.mark.parametrize("store_id", [
    "", "abc", "-1", "0", "1e3", " 1", "1 ", "١", "99999999999999999999", "9" * 5000, 1, 1.5, True, None, [], {},
])
def test_garbage_store_ids_fall_back_to_the_platform_secret_and_never_fail_the_server(app, client, db, stripe_store,
                                                                                      store_id, monkeypatch):
    event = unknown_payout_event(store_id)
    assert relay(client, event).status_code == 400  # no platform secret: Stripe is not configured for it

    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", PLATFORM_SECRET)
    assert relay(client, event).status_code == 400  # signed with the store's secret, which it does not name
    assert relay(client, resigned(event, PLATFORM_SECRET)).status_code == 200
    assert count(db, ProviderEvent) == 1


def test_a_store_id_with_a_nul_character_is_refused_as_a_payload_checkie_cannot_store(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", PLATFORM_SECRET)

    response = relay(client, resigned(unknown_payout_event("1\x00"), PLATFORM_SECRET))

    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_payload"
    assert count(db, ProviderEvent) == 0
