"""The customer portal's JSON API (SPEC §6.4): asking for a link answers the same whoever asks
and is rate limited; a link's token is traded once for a 24-hour portal bearer token; that
token sees one customer of one store (another customer's ids are 404s) and nothing of the
merchant API's; subscription actions honour the store's settings (403) and the action table (409)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.catalog.models import Page
from checkie.customers import portal
from checkie.customers.models import Customer, PortalLinkKind
from checkie.database import utcnow
from checkie.notifications.models import EmailMessage
from checkie.stores.api_keys import create_api_key
from checkie.subscriptions.models import SubscriptionStatus
from tests.api.subscribing import subscribe
from tests.factories import make_customer, make_payment, make_refund, make_store
from tests.http import access_token_for, bearer

ACCESS = "/api/portal/request-access"
SAME_ANSWER = {"message": "If this email bought from the store, a sign-in link is on its way."}
_LINK = re.compile(r"/portal/verify/([A-Za-z0-9_-]+)")


def _ask(client, email: str, store_slug: str = "acme", address: str = "192.0.2.1"):
    return client.post(ACCESS, json={"email": email, "storeSlug": store_slug}, environ_base={"REMOTE_ADDR": address})


def _link_token(db, customer: Customer) -> str:
    _, token = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    db.commit()
    return token


def _portal_auth(db, customer: Customer) -> dict:
    """The Authorization header of a fresh portal session of `customer`."""
    _, raw = portal.sign_in(db, _link_token(db, customer))
    db.commit()
    return bearer(raw)


def _sign_in_emails(db) -> list[str]:
    return list(db.scalars(sa.select(EmailMessage.to_address).where(EmailMessage.kind == "portal_link")))


def _customer(db, subscription) -> Customer:
    return db.get_one(Customer, subscription.customer_id)


@pytest.fixture
def shopper(db, store):
    """A customer of the store with one subscription (and its first payment), bought at checkout."""
    subscription = subscribe(db, store)
    return _customer(db, subscription), subscription


@pytest.fixture
def shopper_auth(db, shopper):
    return _portal_auth(db, shopper[0])


# ---------------------------------------------------------------- asking for a link


def test_known_and_unknown_emails_and_stores_get_the_same_answer(client, db, store, shopper):
    answers = [_ask(client, "Shopper@Example.com"), _ask(client, "nobody@example.com"),
               _ask(client, "shopper@example.com", store_slug="no-such-store")]

    assert {response.status_code for response in answers} == {202}
    assert [response.get_json() for response in answers] == [SAME_ANSWER] * 3
    assert _sign_in_emails(db) == ["shopper@example.com"]


def test_the_emailed_link_signs_in_through_the_api(client, db, store, shopper):
    _ask(client, "shopper@example.com")
    email = db.scalars(sa.select(EmailMessage).where(EmailMessage.kind == "portal_link")).one()
    token = _LINK.search(email.text_body).group(1)

    signed_in = client.get(f"/api/portal/verify/{token}")

    assert signed_in.status_code == 200
    body = signed_in.get_json()
    assert set(body) == {"token", "expiresAt", "customer", "store"}
    assert body["customer"] == {"id": shopper[0].id, "email": "shopper@example.com", "name": "Sam Shopper"}
    assert body["store"] == {"name": "Acme Goods", "slug": "acme"}
    assert client.get("/api/portal/purchases", headers=bearer(body["token"])).status_code == 200


def test_requests_for_one_email_are_limited_across_ips(client, store, shopper):
    answers = [_ask(client, "shopper@example.com", address=f"192.0.2.{n}").status_code for n in range(6)]

    assert answers == [202] * 5 + [429]
    limited = _ask(client, "SHOPPER@example.com", address="192.0.2.100")
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"


def test_requests_from_one_ip_are_limited_whatever_the_email(client, store):
    answers = [_ask(client, f"someone-{n}@example.com").status_code for n in range(21)]

    assert answers == [202] * 20 + [429]


@pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"storeSlug": "acme"},
                                  {"email": 7, "storeSlug": "acme"}, {"email": "a@example.com", "storeSlug": ["acme"]}])
def test_a_missing_or_mistyped_field_is_a_422(client, store, body):
    response = client.post(ACCESS, json=body)

    assert response.status_code == 422 and response.get_json()["error"]["fields"]


# ---------------------------------------------------------------- verifying a link


def test_a_link_signs_in_once(client, db, store, shopper):
    token = _link_token(db, shopper[0])

    assert client.get(f"/api/portal/verify/{token}").status_code == 200
    again = client.get(f"/api/portal/verify/{token}")

    assert again.status_code == 410
    assert again.get_json()["error"] == {"code": "link_invalid", "message": "This sign-in link was already used."}


def test_an_expired_link_is_refused(client, db, store, shopper, monkeypatch):
    token = _link_token(db, shopper[0])
    monkeypatch.setattr(portal, "utcnow", lambda: utcnow() + portal.LINK_LIFETIME + timedelta(seconds=1))

    response = client.get(f"/api/portal/verify/{token}")

    assert response.status_code == 410 and response.get_json()["error"]["message"] == "This sign-in link has expired."


def test_a_link_replaced_by_a_newer_one_is_refused(client, db, store, shopper):
    older = _link_token(db, shopper[0])
    newer = _link_token(db, shopper[0])

    refused = client.get(f"/api/portal/verify/{older}")

    assert refused.status_code == 410 and "newer sign-in link" in refused.get_json()["error"]["message"]
    assert client.get(f"/api/portal/verify/{newer}").status_code == 200


@pytest.mark.parametrize("token", ["x", "a" * 40, "a" * 500, "%00", "%ED%A0%80"])
def test_an_unknown_or_malformed_token_is_not_a_link(client, store, token):
    response = client.get(f"/api/portal/verify/{token}")

    assert response.status_code in (404, 410) and response.get_json()["error"]["code"] in ("link_invalid", "not_found")


# ---------------------------------------------------------------- the bearer token


def test_a_request_without_a_portal_token_is_a_401(client, store):
    for headers in ({}, {"Authorization": "Basic abc"}, bearer(""), bearer("garbage"), bearer("x" * 5000)):
        response = client.get("/api/portal/purchases", headers=headers)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_a_merchant_token_or_api_key_is_not_a_portal_token(app, client, db, user, store):
    _, key = create_api_key(db, store, name="Key", created_by=user)
    db.commit()

    for headers in (bearer(access_token_for(app, user)), bearer(key)):
        assert client.get("/api/portal/subscriptions", headers=headers).status_code == 401


def test_a_signed_out_token_stops_working(client, shopper_auth):
    assert client.post("/api/portal/sign-out", headers=shopper_auth).status_code == 204

    assert client.get("/api/portal/purchases", headers=shopper_auth).status_code == 401
    assert client.post("/api/portal/sign-out", headers=shopper_auth).status_code == 401


def test_a_portal_token_lasts_24_hours(client, shopper_auth, monkeypatch):
    assert client.get("/api/portal/purchases", headers=shopper_auth).status_code == 200

    monkeypatch.setattr(portal, "utcnow", lambda: utcnow() + portal.SESSION_LIFETIME + timedelta(seconds=1))

    assert client.get("/api/portal/purchases", headers=shopper_auth).status_code == 401


# ---------------------------------------------------------------- purchases and receipts


def test_purchases_are_the_customers_own_in_the_customer_view(client, db, store, shopper, shopper_auth):
    other = make_customer(db, store, email="other@example.com")
    make_payment(db, store, customer=other, email=other.email)
    db.commit()

    listed = client.get("/api/portal/purchases", headers=shopper_auth)

    assert listed.status_code == 200 and listed.get_json()["nextCursor"] is None
    [purchase] = listed.get_json()["data"]
    assert set(purchase) == {"id", "amount", "currency", "status", "amountRefunded", "createdAt", "pageTitle", "lineItems"}
    assert (purchase["amount"], purchase["currency"], purchase["status"], purchase["lineItems"]) == (
        900, "USD", "succeeded", [])
    assert purchase["pageTitle"] == db.get_one(Page, shopper[1].page_id).title


def test_a_receipt_is_a_printable_html_page_with_its_refunds(client, db, store, shopper, shopper_auth):
    payment = make_payment(db, store, customer=shopper[0], amount=4200, email="shopper@example.com")
    make_refund(db, payment, amount=1000)
    db.commit()

    response = client.get(f"/api/portal/purchases/{payment.id}/receipt", headers=shopper_auth)

    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"Receipt number</dt><dd>#{payment.id}" in page and "Acme Goods" in page
    assert "$42.00" in page and "−$10.00" in page and "css/receipt.css" in page


def test_another_customers_purchase_is_a_404(client, db, store, shopper_auth, user):
    neighbour = make_payment(db, store, customer=make_customer(db, store, email="other@example.com"))
    elsewhere = make_store(db, owner=user, name="Elsewhere", slug="elsewhere")
    same_email = make_customer(db, elsewhere, email="shopper@example.com")
    foreign = make_payment(db, elsewhere, customer=same_email, email=same_email.email)
    db.commit()

    for payment in (neighbour, foreign):
        response = client.get(f"/api/portal/purchases/{payment.id}/receipt", headers=shopper_auth)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


# ---------------------------------------------------------------- subscriptions


def test_subscriptions_list_what_the_customer_may_do(client, db, store, shopper, shopper_auth):
    listed = client.get("/api/portal/subscriptions", headers=shopper_auth)

    assert listed.status_code == 200
    [shown] = listed.get_json()["data"]
    assert shown["id"] == shopper[1].id and shown["status"] == "active"
    assert shown["allowedActions"] == ["cancel_at_period_end"]  # pausing is off by default

    store.portal_allow_pause = True
    db.commit()
    [shown] = client.get("/api/portal/subscriptions", headers=shopper_auth).get_json()["data"]
    assert sorted(shown["allowedActions"]) == ["cancel_at_period_end", "pause"]


def test_cancel_ends_the_subscription_at_the_period_end_and_resume_takes_it_back(client, shopper, shopper_auth):
    url = f"/api/portal/subscriptions/{shopper[1].id}"

    canceled = client.post(f"{url}/cancel", json={"reason": "other"}, headers=shopper_auth)

    assert canceled.status_code == 200
    assert (canceled.json["status"], canceled.json["cancelAtPeriodEnd"], canceled.json["cancellationReason"]) == (
        "active", True, "other")
    assert canceled.json["allowedActions"] == ["uncancel"]
    again = client.post(f"{url}/cancel", json={}, headers=shopper_auth)
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_subscription_action"
    resumed = client.post(f"{url}/resume", headers=shopper_auth)
    assert resumed.status_code == 200 and resumed.json["cancelAtPeriodEnd"] is False


def test_a_cancel_without_a_reason_is_requested_by_the_customer(client, shopper, shopper_auth):
    canceled = client.post(f"/api/portal/subscriptions/{shopper[1].id}/cancel", headers=shopper_auth)

    assert canceled.status_code == 200 and canceled.json["cancellationReason"] == "requested_by_customer"


def test_actions_the_store_does_not_allow_are_403_and_change_nothing(client, db, store, shopper, shopper_auth):
    url = f"/api/portal/subscriptions/{shopper[1].id}"
    store.portal_allow_cancel = False
    db.commit()

    for action in ("cancel", "pause"):
        refused = client.post(f"{url}/{action}", headers=shopper_auth)
        assert refused.status_code == 403 and refused.json["error"]["code"] == "portal_action_not_allowed"
    db.refresh(shopper[1])
    assert (shopper[1].status, shopper[1].cancel_at_period_end) == (SubscriptionStatus.ACTIVE, False)


def test_pause_and_resume_when_the_store_allows_them(client, db, store, shopper, shopper_auth):
    url = f"/api/portal/subscriptions/{shopper[1].id}"
    store.portal_allow_pause = True
    db.commit()

    paused = client.post(f"{url}/pause", headers=shopper_auth)
    assert paused.status_code == 200 and paused.json["status"] == "paused" and paused.json["allowedActions"] == ["resume"]
    again = client.post(f"{url}/pause", headers=shopper_auth)
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_subscription_action"
    resumed = client.post(f"{url}/resume", headers=shopper_auth)
    assert resumed.status_code == 200 and resumed.json["status"] == "active"


def test_another_customers_subscription_is_a_404(client, db, user, store, shopper_auth):
    neighbour = subscribe(db, store, email="other@example.com")
    elsewhere = make_store(db, owner=user, name="Elsewhere", slug="elsewhere")
    db.commit()
    foreign = subscribe(db, elsewhere, email="shopper@example.com")

    listed = client.get("/api/portal/subscriptions", headers=shopper_auth).json["data"]
    assert neighbour.id not in {row["id"] for row in listed} and foreign.id not in {row["id"] for row in listed}
    for subscription in (neighbour, foreign):
        for action in ("cancel", "pause", "resume"):
            response = client.post(f"/api/portal/subscriptions/{subscription.id}/{action}", headers=shopper_auth)
            assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("path", ["/api/portal/purchases/{big}/receipt", "/api/portal/subscriptions/{big}/cancel",
                                  "/api/portal/subscriptions/0/pause", "/api/portal/purchases/abc/receipt"])
def test_ids_that_name_nothing_are_404s(client, shopper_auth, path):
    url = path.format(big=2**63)
    response = client.open(url, method="GET" if url.endswith("receipt") else "POST", headers=shopper_auth)

    assert response.status_code == 404


@pytest.mark.parametrize("body", [b"{", b"[]", b"0", b'{"reason": "a\\u0000b"}', b'{"reason": "payment_failed"}',
                                  b'{"reason": 12}', b'{"reason": "x\\ud800"}'])
def test_garbage_bodies_are_client_errors(client, shopper, shopper_auth, body):
    response = client.post(f"/api/portal/subscriptions/{shopper[1].id}/cancel", data=body,
                           content_type="application/json", headers=shopper_auth)

    assert 400 <= response.status_code < 500 and "code" in response.get_json()["error"]


def test_a_stranger_with_a_garbage_body_gets_a_401_not_a_judgement_of_the_body(client, shopper):
    response = client.post(f"/api/portal/subscriptions/{shopper[1].id}/cancel", data=b"{",
                           content_type="application/json", headers=bearer("nope"))

    assert response.status_code == 401


def test_the_document_describes_the_portal_and_its_bearer(client):
    document = client.get("/api/openapi.json").get_json()
    assert "portalBearer" in document["components"]["securitySchemes"]
    expected = {
        ("/api/portal/request-access", "post"): {"202", "422", "429"},
        ("/api/portal/verify/{token}", "get"): {"200", "410"},
        ("/api/portal/sign-out", "post"): {"204", "401"},
        ("/api/portal/purchases", "get"): {"200", "401"},
        ("/api/portal/purchases/{payment_id}/receipt", "get"): {"200", "401", "404"},
        ("/api/portal/subscriptions", "get"): {"200", "401"},
        ("/api/portal/subscriptions/{subscription_id}/cancel", "post"): {"200", "401", "403", "404", "409", "422"},
        ("/api/portal/subscriptions/{subscription_id}/pause", "post"): {"200", "401", "403", "404", "409"},
        ("/api/portal/subscriptions/{subscription_id}/resume", "post"): {"200", "401", "403", "404", "409"},
    }
    for (path, method), statuses in expected.items():
        operation = document["paths"][path][method]
        assert set(operation["responses"]) - {"default"} == statuses
        assert operation.get("security") == ([{"portalBearer": []}] if "401" in statuses else None)
    receipt = document["paths"]["/api/portal/purchases/{payment_id}/receipt"]["get"]["responses"]["200"]
    assert list(receipt["content"]) == ["text/html"]
