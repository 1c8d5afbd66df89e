"""The signed-in portal (SPEC §6.4): one customer of one store sees their own purchases,
receipts and subscriptions (404 for anyone else's), acts on subscriptions as the store's
settings (403) and the action table (409) allow, and signs out for good. Every form needs its
CSRF token, and no page is cached or framed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.customers import portal
from checkie.customers.models import Customer, PortalLinkKind, PortalSession
from checkie.payments.models import Payment, PaymentStatus
from checkie.subscriptions.models import CancellationReason, Subscription, SubscriptionStatus
from checkie.web import EXPIRED_FORM
from tests.csp_audit import audit
from tests.factories import make_customer, make_payment, make_store, make_user
from tests.http import csrf_token, post_form
from tests.portal.signing import sign_in_client
from tests.subscription_factories import subscribe


def customer_named(db, store, email: str) -> Customer:
    return db.scalar(sa.select(Customer).where(Customer.store_id == store.id, Customer.email == email))


def reload(db, subscription: Subscription) -> Subscription:
    db.expire_all()
    return db.get(Subscription, subscription.id)


@pytest.fixture
def subscriber(client, db, store):
    """Sam's active monthly subscription (bought through a checkout), and Sam signed in to the portal."""
    subscription = subscribe(db, store, title="Coffee club", amount=900)
    sign_in_client(client, db, customer_named(db, store, "shopper@example.com"))
    return subscription


def act(client, store, subscription, action: str, data: dict | None = None):
    page = f"/portal/{store.slug}/subscriptions/{subscription.id}"
    return post_form(client, f"{page}/{action}", data, page=page)


def test_home_lists_the_customers_purchases_and_subscriptions(client, db, store, subscriber):
    sam = customer_named(db, store, "shopper@example.com")
    refunded = make_payment(db, store, customer=sam, email=sam.email, amount=4000, refunded=1500,
                            status=PaymentStatus.PARTIALLY_REFUNDED)
    db.commit()
    page = client.get("/portal/acme/home").get_data(as_text=True)
    assert "Coffee club" in page and "$9.00 every month" in page and "Next charge on" in page
    assert "$40.00" in page and "$15.00 refunded" in page and "Partly refunded" in page
    assert f"/portal/acme/purchases/{refunded.id}/receipt" in page
    assert f"/portal/acme/subscriptions/{subscriber.id}" in page


def test_the_receipt_prints_the_purchase_and_its_refunds(signed_in, db, store, customer):
    (payment,) = db.scalars(sa.select(Payment)).all()
    response = signed_in.get(f"/portal/acme/purchases/{payment.id}/receipt")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Receipt" in page and "Acme Goods" in page and "$25.00" in page and "css/receipt.css" in page


def test_two_customers_cannot_see_each_others_purchases_or_subscriptions(client, db, store, subscriber):
    bea = make_customer(db, store, email="bea@example.com")
    beas_payment = make_payment(db, store, customer=bea, email=bea.email, amount=7700)
    db.commit()
    beas_subscription = subscribe(db, store, title="Tea club", slug="tea", email="bea@example.com")
    home = client.get("/portal/acme/home").get_data(as_text=True)
    assert "$77.00" not in home and "Tea club" not in home
    assert client.get(f"/portal/acme/purchases/{beas_payment.id}/receipt").status_code == 404
    assert client.get(f"/portal/acme/subscriptions/{beas_subscription.id}").status_code == 404
    assert act(client, store, beas_subscription, "cancel").status_code == 404
    assert reload(db, beas_subscription).cancel_at_period_end is False


def test_a_session_of_one_store_cannot_read_another_stores_portal(client, db, store, subscriber):
    other = make_store(db, owner=make_user(db, email="zed@example.com"), name="Other Shop", slug="other")
    db.commit()
    response = client.get("/portal/other/home")
    assert response.status_code == 303 and response.headers["Location"] == "/portal/other/"
    assert client.get(f"/portal/other/subscriptions/{subscriber.id}").status_code == 303
    assert other.id != store.id


def test_signed_out_visitors_are_sent_to_the_sign_in_page(client, store):
    for path in ("/portal/acme/home", "/portal/acme/purchases/1/receipt", "/portal/acme/subscriptions/1"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["Location"] == "/portal/acme/"


def test_cancelling_ends_at_the_period_end_with_the_customers_reason(client, db, store, subscriber):
    page = client.get(f"/portal/acme/subscriptions/{subscriber.id}").get_data(as_text=True)
    assert "Cancel my subscription" in page and "Pause" not in page  # pausing is off by default
    response = act(client, store, subscriber, "cancel", {"reason": "duplicate"})
    assert response.status_code == 303
    cancelled = reload(db, subscriber)
    assert cancelled.status is SubscriptionStatus.ACTIVE and cancelled.cancel_at_period_end
    assert cancelled.cancellation_reason is CancellationReason.DUPLICATE
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is not renewed" in shown and "Keep my subscription" in shown

    assert act(client, store, subscriber, "uncancel").status_code == 303
    assert reload(db, subscriber).cancel_at_period_end is False


def test_a_merchants_reason_is_not_the_customers_to_give(client, db, store, subscriber):
    response = act(client, store, subscriber, "cancel", {"reason": "fraudulent"})
    assert response.status_code == 422 and 'class="field-error"' in response.get_data(as_text=True)
    assert reload(db, subscriber).cancel_at_period_end is False


def test_without_a_reason_the_customer_asked(client, db, store, subscriber):
    assert act(client, store, subscriber, "cancel", {"reason": ""}).status_code == 303
    assert reload(db, subscriber).cancellation_reason is CancellationReason.REQUESTED_BY_CUSTOMER


def test_what_the_store_does_not_allow_is_a_403_and_changes_nothing(client, db, store, subscriber):
    store.portal_allow_cancel = False
    db.commit()
    assert "Cancel my subscription" not in client.get(f"/portal/acme/subscriptions/{subscriber.id}").get_data(as_text=True)
    refused = act(client, store, subscriber, "cancel")
    assert refused.status_code == 403 and "contact the store" in refused.get_data(as_text=True)
    assert act(client, store, subscriber, "pause").status_code == 403
    subscription = reload(db, subscriber)
    assert subscription.cancel_at_period_end is False and subscription.status is SubscriptionStatus.ACTIVE


def test_pause_and_resume_when_the_store_allows_them(client, db, store, subscriber):
    store.portal_allow_pause = True
    db.commit()
    assert act(client, store, subscriber, "pause").status_code == 303
    assert reload(db, subscriber).status is SubscriptionStatus.PAUSED
    assert "Resume my subscription" in client.get(f"/portal/acme/subscriptions/{subscriber.id}").get_data(as_text=True)
    assert act(client, store, subscriber, "resume").status_code == 303
    assert reload(db, subscriber).status is SubscriptionStatus.ACTIVE


def test_a_move_the_table_refuses_is_a_409_with_the_reason(client, db, store, subscriber):
    store.portal_allow_pause = True
    db.commit()
    refused = act(client, store, subscriber, "uncancel")
    assert refused.status_code == 409 and "cannot be kept" in refused.get_data(as_text=True)
    assert act(client, store, subscriber, "resume").status_code == 409
    assert reload(db, subscriber).status is SubscriptionStatus.ACTIVE


def test_an_unknown_action_is_a_404(client, db, store, subscriber):
    assert act(client, store, subscriber, "cancel_now").status_code == 404
    assert reload(db, subscriber).status is SubscriptionStatus.ACTIVE


def test_signing_out_ends_the_session_and_a_copied_cookie_no_longer_works(app, client, db, store, subscriber):
    copied = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    response = post_form(client, "/portal/acme/sign-out", page="/portal/acme/home")
    assert response.status_code == 303 and response.headers["Location"] == "/portal/acme/"
    assert db.scalar(sa.select(PortalSession.ended_at)) is not None
    assert client.get("/portal/acme/home").status_code == 303
    stale = app.test_client()
    stale.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    assert stale.get("/portal/acme/home").status_code == 303


def test_every_portal_form_needs_its_csrf_token(client, db, store, customer, subscriber):
    _, token = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    db.commit()
    paths = ["/portal/acme/", f"/portal/verify/{token}", f"/portal/acme/subscriptions/{subscriber.id}/cancel",
             "/portal/acme/sign-out"]
    for path in paths:
        response = client.post(path, data={"email": "bea@example.com"}, headers={"Referer": "http://localhost/portal/acme/"})
        assert response.status_code == 303 and response.headers["Location"] == "http://localhost/portal/acme/", path
        with client.session_transaction() as session:
            assert ("error", EXPIRED_FORM) in session.pop("_flashes", [])
    db.expire_all()
    assert reload(db, subscriber).cancel_at_period_end is False
    assert client.get("/portal/acme/home").status_code == 200  # still signed in
    assert portal.link_for_token(db, token)  # not consumed


def test_portal_pages_are_neither_cached_nor_framed(client, store, subscriber):
    for path in ("/portal/acme/", "/portal/acme/home", f"/portal/acme/subscriptions/{subscriber.id}", "/portal/verify/nope"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
    assert "X-CSRFToken" in client.get("/portal/acme/home").get_data(as_text=True)


def test_the_store_brand_colour_is_a_stylesheet_of_its_own(client, db, store):
    assert client.get("/portal/acme/theme.css").status_code == 404
    assert "theme.css" not in client.get("/portal/acme/").get_data(as_text=True)
    store.brand_color = "#ffcc00"
    db.commit()
    assert "/portal/acme/theme.css?v=ffcc00" in client.get("/portal/acme/").get_data(as_text=True)
    css = client.get("/portal/acme/theme.css")
    assert css.mimetype == "text/css" and "--pico-primary: #ffcc00;" in css.get_data(as_text=True)
    assert "--pico-primary-inverse: #000;" in css.get_data(as_text=True)


def test_a_csrf_token_from_the_sign_in_page_works(client, store):
    token = csrf_token(client, "/portal/acme/")
    assert client.post("/portal/acme/", data={"email": "x@example.com", "csrf_token": token}).status_code == 200


def test_every_portal_page_keeps_to_the_csp(client, db, store, subscriber):
    """The pages tests/test_templates.py cannot reach without a customer: signed in, a live link,
    the answer to a request, the errors."""
    store.brand_color = "#336699"
    sam = customer_named(db, store, "shopper@example.com")
    (payment,) = db.scalars(sa.select(Payment).where(Payment.customer_id == sam.id)).all()
    _, token = portal.issue_link(db, make_customer(db, store, email="bea@example.com"), kind=PortalLinkKind.REQUESTED)
    db.commit()
    pages = {
        path: client.get(path) for path in (
            "/portal/acme/home", f"/portal/acme/subscriptions/{subscriber.id}", f"/portal/acme/purchases/{payment.id}/receipt",
            f"/portal/verify/{token}", "/portal/acme/purchases/999999/receipt",
        )
    }
    pages["sent"] = post_form(client, "/portal/acme/", {"email": "bea@example.com"})
    pages["refused"] = act(client, store, subscriber, "uncancel")
    problems = [f"{path} [{r.status_code}]: {problem}" for path, r in pages.items()
                for problem in audit(r.get_data(as_text=True), full_page=True, path=path)]
    assert problems == []
    assert [r.status_code for r in pages.values()] == [200, 200, 200, 200, 404, 200, 409]
