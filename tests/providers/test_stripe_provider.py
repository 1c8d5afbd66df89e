"""StripeProvider against localstripe on loopback (tests/providers/localstripe.py).

Where localstripe does not behave as Stripe does, the method is tested against a recorded
Stripe-shaped answer at the SDK's HTTP layer instead (RecordedStripe), or with Stripe's
documented idempotency replayed in front of localstripe (ReplayingIdempotencyKeys):
- it ignores `Idempotency-Key` (a repeated refund, payout or charge is made again);
- `pm_card_visa_chargeDeclined` (4000 0000 0000 0002) declines only when saved, never when
  charged: the charge-time decline card is `pm_card_chargeCustomerFail` (…0341);
- 3-D Secure is always `use_stripe_sdk`, never `redirect_to_url`; an off-session charge of a
  3DS card answers requires_action where Stripe declines with `authentication_required`;
- a card decline's error names the charge but not the payment intent (`error.payment_intent`);
- payouts are `eur` only, start `pending`, and cannot fail on request;
- it knows no `pm_card_threeDSecureRequired`: the 3DS card is made from its number."""
from __future__ import annotations

import json

import pytest
import stripe

from checkie.providers.base import InvalidSignature, ProviderError
from checkie.providers.stripe import STRIPE_API_VERSION, StripeProvider, read_intent_event, sign_payload
from tests.providers.localstripe import SECRET_KEY, RecordedStripe, ReplayingIdempotencyKeys, WebhookInbox

WEBHOOK_SECRET = "whsec_checkie_localstripe"
METADATA = {"checkout_session_id": "cs_stripe_test", "store_id": "7"}
THREE_D_SECURE_CARD = "4000002760003184"


@pytest.fixture
def provider(localstripe) -> StripeProvider:
    return StripeProvider(SECRET_KEY, WEBHOOK_SECRET, localstripe.api_base)


@pytest.fixture
def replaying(localstripe) -> tuple[StripeProvider, ReplayingIdempotencyKeys]:
    http = ReplayingIdempotencyKeys()
    return StripeProvider(SECRET_KEY, WEBHOOK_SECRET, localstripe.api_base, http_client=http), http


def recorded(*answers: tuple[int, dict]) -> tuple[StripeProvider, RecordedStripe]:
    http = RecordedStripe(*answers)
    return StripeProvider("sk_test_recorded", WEBHOOK_SECRET, "http://127.0.0.1:9", http_client=http), http


def retrieve_intent(provider: StripeProvider, intent_id: str) -> dict:
    return provider.client.v1.payment_intents.retrieve(intent_id).to_dict()


def three_d_secure_method(provider: StripeProvider) -> str:
    return provider.client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": THREE_D_SECURE_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    }).id


def test_a_visa_payment_succeeds_and_carries_its_metadata(provider):
    result = provider.create_payment_intent(amount=2500, currency="USD", metadata=METADATA, payment_method="pm_card_visa")

    assert result.status == "succeeded" and result.intent_id.startswith("pi_")
    intent = retrieve_intent(provider, result.intent_id)
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (2500, "usd", METADATA)
    assert intent["status"] == "succeeded"


def test_a_declined_card_fails_with_stripes_code_and_keeps_the_intent_id(provider):
    result = provider.create_payment_intent(
        amount=2500, currency="usd", metadata=METADATA, payment_method="pm_card_chargeCustomerFail",
    )

    assert (result.status, result.failure_code, result.failure_message) == (
        "failed", "card_declined", "Your card was declined.")
    assert retrieve_intent(provider, result.intent_id)["status"] == "requires_payment_method"


def test_the_3ds_card_asks_for_action_that_stripe_js_runs(provider):
    result = provider.create_payment_intent(
        amount=2500, currency="usd", metadata=METADATA, payment_method=three_d_secure_method(provider),
    )

    assert result.status == "requires_action"
    assert result.client_secret and result.client_secret.startswith(result.intent_id + "_secret_")
    assert result.next_action_url is None  # use_stripe_sdk: confirmCardPayment runs it in the browser
    assert retrieve_intent(provider, result.intent_id)["next_action"]["type"] == "use_stripe_sdk"


def test_without_a_payment_method_the_intent_waits_for_stripe_js(provider):
    result = provider.create_payment_intent(amount=990, currency="eur", metadata=METADATA, payment_method=None)

    assert result.status == "requires_action" and result.client_secret
    assert retrieve_intent(provider, result.intent_id)["status"] == "requires_payment_method"


def test_a_3ds_redirect_answers_its_url():
    """Recorded: localstripe never answers `redirect_to_url`."""
    url = "https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=pi_3ds"
    created = {"id": "pi_3ds", "object": "payment_intent", "status": "requires_confirmation", "client_secret": "pi_3ds_secret_a"}
    confirmed = dict(created, status="requires_action",
                     next_action={"type": "redirect_to_url", "redirect_to_url": {"url": url, "return_url": None}})
    provider, _ = recorded((200, created), (200, confirmed))

    result = provider.create_payment_intent(amount=100, currency="usd", metadata=METADATA, payment_method="pm_card_visa")

    assert (result.status, result.next_action_url, result.client_secret) == ("requires_action", url, "pi_3ds_secret_a")


def test_intent_requests_name_the_api_version_card_only_and_keys_from_the_attempt():
    created = {"id": "pi_keys", "object": "payment_intent", "status": "requires_confirmation"}
    provider, http = recorded((200, created), (200, dict(created, status="succeeded")))

    provider.create_payment_intent(amount=100, currency="usd", metadata=dict(METADATA, attempt="2"),
                                   payment_method="pm_card_visa")

    create, confirm = http.sent
    assert create.form["payment_method_types[0]"] == ["card"] and "automatic_payment_methods" not in str(create.form)
    assert create.form["metadata[checkout_session_id]"] == ["cs_stripe_test"]
    assert create.headers["Idempotency-Key"] == "checkie-payment_intent-cs_stripe_test-2:create"
    assert confirm.url.endswith("/v1/payment_intents/pi_keys/confirm")
    assert confirm.headers["Idempotency-Key"] == "checkie-payment_intent-cs_stripe_test-2:confirm"
    assert {create.headers["Stripe-Version"], confirm.headers["Stripe-Version"]} == {STRIPE_API_VERSION}


def test_the_same_attempt_makes_one_intent_and_the_next_attempt_another(replaying):
    provider, http = replaying
    first_try = dict(METADATA, attempt="1")

    first = provider.create_payment_intent(amount=700, currency="usd", metadata=first_try, payment_method="pm_card_visa")
    again = provider.create_payment_intent(amount=700, currency="usd", metadata=first_try, payment_method="pm_card_visa")
    retry = provider.create_payment_intent(amount=700, currency="usd", metadata=dict(METADATA, attempt="2"),
                                           payment_method="pm_card_visa")

    assert first.intent_id == again.intent_id != retry.intent_id
    assert http.forwarded == 4  # create + confirm, twice: the repeated attempt never reached the server


def test_a_customer_saves_a_card_with_a_setup_intent_and_is_charged_off_session(provider):
    customer_id = provider.create_customer(email="shopper@example.com", name="Ada", metadata={"store_id": "7"})
    setup = provider.create_setup_intent(metadata=METADATA, payment_method="pm_card_visa")
    charge = provider.charge_customer(
        customer_id=customer_id, payment_method="pm_card_visa", amount=1200, currency="usd",
        metadata={"store_id": "7", "subscription_id": "3", "renewal_id": "9"}, idempotency_key="checkie-renewal-9-0",
    )

    assert customer_id.startswith("cus_")
    assert provider.client.v1.customers.retrieve(customer_id).to_dict()["email"] == "shopper@example.com"
    assert setup.status == "succeeded" and setup.intent_id.startswith("seti_")
    assert charge.status == "succeeded"
    intent = retrieve_intent(provider, charge.intent_id)
    assert (intent["customer"], intent["amount"], intent["metadata"]["renewal_id"]) == (customer_id, 1200, "9")


def test_a_card_that_declines_when_saved_fails_the_setup_intent(provider):
    result = provider.create_setup_intent(metadata=METADATA, payment_method="pm_card_visa_chargeDeclined")

    assert (result.status, result.failure_code) == ("failed", "card_declined")
    assert result.intent_id.startswith("seti_")


def test_a_setup_intent_with_the_3ds_card_asks_for_action(provider):
    result = provider.create_setup_intent(metadata=METADATA, payment_method=three_d_secure_method(provider))

    assert result.status == "requires_action" and result.client_secret


def test_an_off_session_charge_of_a_failing_card_is_declined(provider):
    customer_id = provider.create_customer(email="renewal@example.com", name=None, metadata={"store_id": "7"})

    result = provider.charge_customer(
        customer_id=customer_id, payment_method="pm_card_chargeCustomerFail", amount=1200, currency="usd",
        metadata={"store_id": "7"}, idempotency_key="checkie-renewal-10-0",
    )

    assert (result.status, result.failure_code) == ("failed", "card_declined")


def test_an_off_session_charge_never_asks_for_action(provider):
    """localstripe answers requires_action; with no one there, that is Stripe's `authentication_required`."""
    customer_id = provider.create_customer(email="offsession@example.com", name=None, metadata={"store_id": "7"})

    result = provider.charge_customer(
        customer_id=customer_id, payment_method=three_d_secure_method(provider), amount=1200, currency="usd",
        metadata={"store_id": "7"}, idempotency_key="checkie-renewal-11-0",
    )

    assert (result.status, result.failure_code) == ("failed", "authentication_required")


def test_stripes_off_session_decline_names_its_intent():
    """Recorded: Stripe's 402 carries the intent in `error.payment_intent`; localstripe's does not."""
    error = {"error": {
        "type": "card_error", "code": "authentication_required", "message": "This payment requires authentication.",
        "payment_intent": {"id": "pi_offsession", "object": "payment_intent", "status": "requires_payment_method"},
    }}
    provider, http = recorded((402, error))

    result = provider.charge_customer(customer_id="cus_1", payment_method="pm_1", amount=500, currency="usd",
                                      metadata={}, idempotency_key="checkie-renewal-12-1")

    assert (result.intent_id, result.status, result.failure_code) == ("pi_offsession", "failed", "authentication_required")
    assert http.sent[0].form["off_session"] == ["true"] and http.sent[0].form["confirm"] == ["true"]
    assert http.sent[0].headers["Idempotency-Key"] == "checkie-renewal-12-1"


def test_a_partial_refund_succeeds(provider):
    payment = provider.create_payment_intent(amount=2500, currency="usd", metadata=METADATA, payment_method="pm_card_visa")

    result = provider.refund(payment_intent_id=payment.intent_id, amount=1000, currency="usd", idempotency_key="refund-1")

    assert result.status == "succeeded" and result.refund_id.startswith("re_")
    refund = provider.client.v1.refunds.retrieve(result.refund_id).to_dict()
    assert (refund["amount"], refund["payment_intent"]) == (1000, payment.intent_id)


def test_the_same_refund_key_twice_makes_one_refund(replaying):
    provider, _ = replaying
    payment = provider.create_payment_intent(amount=2500, currency="usd", metadata=METADATA, payment_method="pm_card_visa")

    first = provider.refund(payment_intent_id=payment.intent_id, amount=500, currency="usd", idempotency_key="refund-2")
    again = provider.refund(payment_intent_id=payment.intent_id, amount=500, currency="usd", idempotency_key="refund-2")
    other = provider.refund(payment_intent_id=payment.intent_id, amount=500, currency="usd", idempotency_key="refund-3")

    assert first == again and other.refund_id != first.refund_id
    refunds = provider.client.v1.refunds.list(params={"payment_intent": payment.intent_id}).to_dict()["data"]
    assert sorted(refund["id"] for refund in refunds) == sorted([first.refund_id, other.refund_id])


def test_a_payout_is_paid_once_per_key(replaying):
    provider, http = replaying

    first = provider.create_payout(amount=5000, currency="eur", routing_number="110000000",
                                   account_number="000123456789", idempotency_key="payout-1")
    again = provider.create_payout(amount=5000, currency="eur", routing_number="110000000",
                                   account_number="000123456789", idempotency_key="payout-1")

    assert first == again and first.status == "paid" and first.payout_id.startswith("po_")
    assert http.forwarded == 1
    payout = provider.client.v1.payouts.retrieve(first.payout_id).to_dict()
    assert (payout["amount"], payout["metadata"]) == (5000, {"account_last4": "6789"})


def test_a_failed_payout_answers_its_code():
    """Recorded: localstripe cannot be asked for a payout that fails."""
    provider, http = recorded((200, {"id": "po_failed", "object": "payout", "status": "failed", "failure_code": "no_account"}))

    result = provider.create_payout(amount=5000, currency="usd", routing_number="110000000",
                                    account_number="000111111116", idempotency_key="payout-2")

    assert (result.payout_id, result.status, result.failure_code) == ("po_failed", "failed", "no_account")
    assert "000111111116" not in str(http.sent[0].form) and "110000000" not in str(http.sent[0].form)


def test_a_stripe_refusal_that_is_not_a_decline_is_a_provider_error(provider):
    with pytest.raises(ProviderError) as refused:
        provider.create_payment_intent(amount=100, currency="usd", metadata=METADATA, payment_method="pm_unknown")

    assert refused.value.status == 502 and isinstance(refused.value.__cause__, stripe.InvalidRequestError)


def test_keys_stripe_refuses_are_a_provider_error_that_does_not_repeat_them(localstripe):
    provider = StripeProvider("rk_test_not_secret_enough", WEBHOOK_SECRET, localstripe.api_base)

    with pytest.raises(ProviderError) as refused:
        provider.create_customer(email="a@example.com", name=None, metadata={"store_id": "7"})

    assert isinstance(refused.value.__cause__, stripe.AuthenticationError)
    assert "rk_test" not in refused.value.message


def test_an_event_localstripe_signs_and_sends_is_verified(provider, localstripe):
    inbox = WebhookInbox().start()
    try:
        localstripe.configure_webhook("checkie", url=inbox.url, secret=WEBHOOK_SECRET, events=["payment_intent.succeeded"])
        payment = provider.create_payment_intent(amount=4200, currency="usd", metadata=METADATA,
                                                 payment_method="pm_card_visa")
        delivery = inbox.wait_for(lambda d: payment.intent_id.encode() in d.body)
    finally:
        inbox.stop()

    event = provider.verify_webhook(delivery.body, delivery.headers["stripe-signature"])
    intent = read_intent_event(event)
    assert event["type"] == "payment_intent.succeeded" and intent is not None
    assert (intent.intent_id, intent.amount, intent.currency, intent.metadata) == (payment.intent_id, 4200, "usd", METADATA)


def test_a_forged_or_altered_event_is_refused():
    provider = StripeProvider(SECRET_KEY, WEBHOOK_SECRET)
    body = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}).encode()
    signed = sign_payload(body, WEBHOOK_SECRET)

    assert provider.verify_webhook(body, signed)["id"] == "evt_1"
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(body, sign_payload(body, "whsec_someone_else"))
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(body.replace(b"evt_1", b"evt_2"), signed)


@pytest.mark.parametrize("payment_method", [None, "pm_card_visa", "pm_1PqRsTuVwXyZ", "tok_visa", "tok_1PqRsT"])
def test_payment_method_ids_and_card_tokens_are_accepted(payment_method):
    assert StripeProvider(SECRET_KEY, WEBHOOK_SECRET).accepts_payment_method(payment_method)


@pytest.mark.parametrize("payment_method", ["4242424242424242", "", "pm_", "pm_card visa", "tok_", "card_1Pq", "pm_" + "a" * 251])
def test_anything_but_a_payment_method_id_is_refused(payment_method):
    assert not StripeProvider(SECRET_KEY, WEBHOOK_SECRET).accepts_payment_method(payment_method)
