"""Tenant isolation: every store-scoped route, dashboard and API, answers 404 for a store the
caller does not belong to — and for an object of another store reached through the caller's own
store id. An API key of store A is a stranger to store B, even where keys are otherwise refused.

The routes are read from the app's URL map, so a new store-scoped route is walked too: a
dashboard route must pass `store_required` before anything else (404 first), an API GET must
load its store first. Routes this module knows get valid bodies, so a 404 cannot hide behind a
422; other API writes are only required not to succeed (their modules test the 404 with bodies).
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import Rule

from checkie.catalog.models import Coupon, Embed, Page
from checkie.customers.models import PortalLink
from checkie.payments.models import BalanceTransaction, Payment, Payout, PayoutAccount, Refund
from checkie.stores import api_keys, members
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from checkie.subscriptions import clock
from checkie.subscriptions.models import Subscription
from checkie.webhooks import services as webhook_services
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.api.subscribing import subscribe
from tests.factories import add_member, make_catalog, make_store, make_user
from tests.http import access_token_for, bearer, csrf_token, login_as

#: Bodies that would succeed on the caller's own store, so only the tenant check can refuse them.
API_BODIES = {
    ("api_stores.StoreById", "PATCH"): {"name": "Hijacked"},
    ("api_members.Members", "POST"): {"email": "spy@example.com", "role": "admin"},
    ("api_members.MemberById", "PATCH"): {"role": "admin"},
    ("api_api_keys.ApiKeys", "POST"): {"name": "Spy key"},
    ("api_pages.PageById", "PATCH"): {"title": "Hijacked"},
    ("api_variants.Variants", "POST"): {"name": "Spy"},
    ("api_variants.VariantById", "PATCH"): {"name": "Hijacked"},
    ("api_variants.Options", "POST"): {"name": "Spy", "priceDelta": 0},
    ("api_variants.OptionById", "PATCH"): {"name": "Hijacked"},
    ("api_custom_fields.CustomFields", "POST"): {"key": "spy", "label": "Spy", "type": "text"},
    ("api_custom_fields.CustomFieldById", "PATCH"): {"label": "Hijacked"},
    ("api_embeds.PageEmbeds", "POST"): {"type": "inline"},
    ("api_coupons.CouponById", "PATCH"): {"percentOff": 50},
    ("api_variants.VariantOrder", "PATCH"): {"ids": [1]},
    ("api_variants.OptionOrder", "PATCH"): {"ids": [1]},
    ("api_custom_fields.CustomFieldOrder", "PATCH"): {"ids": [1]},
    ("api_webhooks.WebhookEndpoints", "POST"): {"url": "http://127.0.0.1:9/spy", "events": ["payment.completed"]},
    ("api_payouts.PayoutAccount", "PUT"): {"accountHolderName": "Spy", "routingNumber": "110000000",
                                          "accountNumber": "000123456789"},
    ("api_payouts.Payouts", "POST"): {"amount": 100, "currency": "USD"},
    ("api_webhooks.WebhookEndpointById", "PATCH"): {"url": "http://127.0.0.1:9/hijacked", "enabled": False},
    ("api_webhooks.WebhookReplay", "POST"): {"since": "2000-01-01T00:00:00Z"},
    ("api_refunds.PaymentRefund", "POST"): {"amount": 100, "reason": "fraudulent"},
    ("api_subscriptions.SubscriptionCancel", "POST"): {"atPeriodEnd": False, "reason": "fraudulent"},
    ("api_subscriptions.StoreClockAdvance", "POST"): {"days": 30},
    ("api_payment_settings.PaymentSettings", "PUT"): {"provider": "test"},
}
DASHBOARD_FORMS = {
    "stores.update": {"name": "Hijacked", "slug": "hijacked", "currency": "USD"},
    "stores.delete": {"confirm_name": "Store B"},
    "team.invite": {"email": "spy@example.com", "role": "admin"},
    "team.change_role": {"role": "admin"},
    "api_keys.create": {"name": "Spy key"},
    "pages.update": {"title": "Hijacked", "amount": "10.00", "currency": "USD", "pricing_type": "one_time"},
    "pages.add_variant": {"name": "Spy"},
    "pages.rename_variant": {"name": "Hijacked"},
    "pages.add_option": {"name": "Spy", "price_delta": "0"},
    "coupons.update": {"code": "SPY10", "kind": "percent", "percent_off": "10", "currency": "USD", "duration": "once"},
    "webhooks.update": {"url": "https://spy.example.com/in", "events": ["payment.completed"]},
    "webhooks.replay": {"since": "2000-01-01T00:00"},
    "payment_settings.update": {"provider": "test"},
}
OWN_API_ENDPOINTS = {
    "api_stores.StoreById", "api_stores.StoreStats", "api_members.Members", "api_members.MemberById",
    "api_api_keys.ApiKeys", "api_api_keys.ApiKeyById",
    "api_pages.PageById", "api_pages.PagePublish", "api_pages.PageArchive", "api_pages.PageUnpublish",
    "api_pages.PageDuplicate", "api_variants.Variants", "api_variants.VariantById", "api_variants.Options",
    "api_variants.OptionById", "api_custom_fields.CustomFields", "api_custom_fields.CustomFieldById",
    "api_embeds.PageEmbeds", "api_embeds.EmbedById", "api_embeds.EmbedCode", "api_coupons.CouponById",
    "api_coupons.CouponDeactivate", "api_coupons.CouponActivate",
    "api_webhooks.WebhookEndpoints", "api_webhooks.WebhookEndpointById", "api_webhooks.WebhookSecretRotation",
    "api_webhooks.WebhookTestEvent", "api_webhooks.WebhookDeliveries", "api_webhooks.WebhookDeliveryById",
    "api_webhooks.WebhookDeliveryResend", "api_webhooks.WebhookReplay",
    "api_refunds.PaymentRefund", "api_refunds.Refunds", "api_refunds.RefundById",
    "api_payouts.PayoutAccount", "api_payouts.Payouts", "api_payouts.PayoutById",
    "api_subscriptions.Subscriptions", "api_subscriptions.SubscriptionById", "api_subscriptions.SubscriptionCancel",
    "api_subscriptions.SubscriptionPause", "api_subscriptions.SubscriptionResume", "api_subscriptions.StoreClock",
    "api_subscriptions.StoreClockAdvance", "api_customers.Customers", "api_customers.CustomerById",
    "api_customers.CustomerPayments", "api_customers.CustomerPortalLink",
    "api_payment_settings.PaymentSettings", "api_payment_settings.test_connection",
}
#: Path arguments that name an object inside a store (everything but the store itself).
OBJECT_ARGUMENTS = {
    "member_id", "key_id", "page_id", "variant_id", "option_id", "field_id", "embed_id", "coupon_id",
    "payment_id", "session_id", "customer_id", "refund_id", "endpoint_id", "delivery_id", "payout_id",
    "subscription_id",
}
#: Path arguments that name no object (an action of a subscription), with a value that works.
NAME_ARGUMENTS = {"action_name": "cancel_now"}


@pytest.fixture
def tenants(db, app):
    """Alice owns store A (with a key and a catalog); Bob owns store B with a member, a key, a
    catalog and a subscription of its own."""
    alice, bob = make_user(db, email="alice@example.com"), make_user(db, email="bob@example.com")
    store_a = make_store(db, owner=alice, name="Store A", slug="store-a")
    store_b = make_store(db, owner=bob, name="Store B", slug="store-b")
    member_b = add_member(db, store_b, make_user(db, email="carol@example.com"), role=Role.VIEWER)
    key_a, raw_a = create_api_key(db, store_a, name="A's key", created_by=alice)
    key_b, _ = create_api_key(db, store_b, name="B's key", created_by=bob)
    catalog_a, catalog_b = make_catalog(db, store_a), make_catalog(db, store_b)
    db.commit()
    catalog_b["subscription_id"] = subscribe(db, store_b).id
    return {
        "alice": alice, "store_a": store_a, "store_b": store_b, "raw_key_a": raw_a,
        "ids_b": {"member_id": member_b.id, "key_id": key_b.id, **catalog_b},
        # Store A's own page, with everything nested under it from store B.
        "ids_b_under_page_a": {"member_id": member_b.id, "key_id": key_b.id, **catalog_b, "page_id": catalog_a["page_id"]},
        "alice_token": access_token_for(app, alice),
    }


def store_scoped_rules(app, prefix: str) -> list[tuple[Rule, str]]:
    rules = [r for r in app.url_map.iter_rules() if "store_id" in r.arguments and r.rule.startswith(prefix)]
    return [(rule, method) for rule in rules for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def build(app, rule: Rule, store_id: int, ids: dict) -> str:
    """The rule's URL for `store_id`; other ids from `ids` (another store's member/key), else 1."""
    values = {name: ids.get(name, NAME_ARGUMENTS.get(name, 1)) for name in rule.arguments} | {"store_id": store_id}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def snapshot(db, tenants) -> tuple:
    """Everything about store B that a leaking write could change."""
    db.expire_all()
    store_b = tenants["store_b"]
    return (
        store_b.name, store_b.slug,
        sorted((m.email, m.role.value) for m in members.list_members(db, store_b)),
        sorted((k.name, k.revoked_at is None) for k in api_keys.list_api_keys(db, store_b)),
        _catalog_rows(db, store_b.id),
        _webhook_rows(db, store_b.id),
        _money_rows(db, store_b.id),
        _payout_rows(db, store_b.id),
        _subscription_rows(db, store_b.id),
        db.scalars(sa.select(PortalLink.id).where(PortalLink.store_id == store_b.id)).all(),
        (store_b.payment_provider, store_b.stripe_publishable_key, store_b.stripe_secret_key_encrypted),
    )


def _catalog_rows(db, store_id: int) -> list:
    pages = db.scalars(sa.select(Page).where(Page.store_id == store_id).order_by(Page.id)).all()
    coupons = db.scalars(sa.select(Coupon).where(Coupon.store_id == store_id).order_by(Coupon.id)).all()
    return [
        [(p.title, p.status.value, p.amount, [(v.name, [(o.name, o.price_delta) for o in v.options]) for v in p.variants],
          [(f.key, f.label, f.position) for f in p.custom_fields]) for p in pages],
        db.scalars(sa.select(Embed.public_id).where(Embed.store_id == store_id).order_by(Embed.id)).all(),
        [(c.code, c.percent_off, c.active) for c in coupons],
    ]


def _webhook_rows(db, store_id: int) -> list:
    """Store B's endpoints (secrets included: a rotation changes them) and their deliveries."""
    endpoints = webhook_services.list_endpoints(db, store_id)
    deliveries = db.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id.in_([e.id for e in endpoints])).order_by(WebhookDelivery.id)
    ).all()
    return [
        [(e.url, e.events, e.enabled, e.secret_encrypted, e.previous_secret_encrypted) for e in endpoints],
        [(d.event_id, d.status.value, d.attempts, d.next_attempt_at) for d in deliveries],
    ]


def _money_rows(db, store_id: int) -> list:
    """Store B's payments (what was refunded of them), refunds and ledger."""
    payments = db.scalars(sa.select(Payment).where(Payment.store_id == store_id).order_by(Payment.id)).all()
    return [
        [(p.amount_refunded, p.status.value) for p in payments],
        db.scalars(sa.select(Refund.id).where(Refund.store_id == store_id).order_by(Refund.id)).all(),
        db.scalars(sa.select(BalanceTransaction.id).where(BalanceTransaction.store_id == store_id)).all(),
    ]


def _payout_rows(db, store_id: int) -> list:
    """Store B's bank account and payouts."""
    account = db.get(PayoutAccount, store_id)
    payouts = db.scalars(sa.select(Payout).where(Payout.store_id == store_id).order_by(Payout.id)).all()
    return [account and (account.holder_name, account.account_number_encrypted),
            [(p.amount, p.currency, p.status.value) for p in payouts]]


def _subscription_rows(db, store_id: int) -> list:
    """Store B's subscriptions and how far its test clock ran ahead."""
    subscriptions = db.scalars(sa.select(Subscription).where(Subscription.store_id == store_id).order_by(Subscription.id)).all()
    return [[(s.status.value, s.cancel_at_period_end, s.paused_at, s.canceled_at) for s in subscriptions],
            clock.offset(db, store_id)]


def test_the_walk_covers_every_store_route_this_area_defines(app):
    dashboard = {rule.endpoint for rule, _ in store_scoped_rules(app, "/dashboard/")}
    api = {rule.endpoint for rule, _ in store_scoped_rules(app, "/api/")}
    assert {"stores.show", "stores.edit", "stores.update", "stores.delete", "team.index", "team.invite",
            "team.change_role", "team.remove", "team.leave", "api_keys.index", "api_keys.create",
            "api_keys.revoke"} <= dashboard
    assert OWN_API_ENDPOINTS <= api
    assert {"pages.show", "pages.update", "pages.add_option", "custom_fields.update", "embeds.delete",
            "coupons.index", "webhooks.index", "webhooks.show", "webhooks.update", "webhooks.rotate",
            "webhooks.delivery", "webhooks.resend", "webhooks.replay", "customers.index", "customers.show",
            "customers.send_portal_link", "payment_settings.index", "payment_settings.update",
            "payment_settings.test_connection"} <= dashboard
    arguments = {name for rule, _ in store_scoped_rules(app, "/") for name in rule.arguments}
    new_ids = arguments - {"store_id"} - set(NAME_ARGUMENTS) - OBJECT_ARGUMENTS
    assert not new_ids, "a new kind of object id: add it to the tenants fixture"


def test_dashboard_routes_of_another_store_are_404(app, client, db, tenants):
    login_as(client, tenants["alice"])
    token = csrf_token(client, f"/dashboard/stores/{tenants['store_a'].id}")
    before = snapshot(db, tenants)
    for rule, method in store_scoped_rules(app, "/dashboard/"):
        url = build(app, rule, tenants["store_b"].id, tenants["ids_b"])
        data = {"csrf_token": token, **DASHBOARD_FORMS.get(rule.endpoint, {})}
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(url, method=method, data=data if method != "GET" else None, headers=headers)
            assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot(db, tenants) == before


@pytest.mark.parametrize("ids", ["ids_b", "ids_b_under_page_a"])
def test_dashboard_objects_of_another_store_are_404_through_the_own_store(app, client, db, tenants, ids):
    login_as(client, tenants["alice"])
    token = csrf_token(client, f"/dashboard/stores/{tenants['store_a'].id}")
    before = snapshot(db, tenants)
    for rule, method in store_scoped_rules(app, "/dashboard/"):
        foreign = (OBJECT_ARGUMENTS & set(rule.arguments)) - ({"page_id"} if ids == "ids_b_under_page_a" else set())
        if not foreign:
            continue
        url = build(app, rule, tenants["store_a"].id, tenants[ids])
        data = {"csrf_token": token, **DASHBOARD_FORMS.get(rule.endpoint, {})}
        assert client.open(url, method=method, data=data).status_code == 404, (method, url)
    assert snapshot(db, tenants) == before


@pytest.mark.parametrize("credential", ["alice_token", "raw_key_a"])
def test_api_routes_of_another_store_are_404(app, client, db, tenants, credential):
    headers = bearer(tenants[credential])
    before = snapshot(db, tenants)
    for rule, method in store_scoped_rules(app, "/api/"):
        url = build(app, rule, tenants["store_b"].id, tenants["ids_b"])
        body = API_BODIES.get((rule.endpoint, method))
        response = client.open(url, method=method, json=body if method != "GET" else None, headers=headers)
        if method in ("GET", "DELETE") or rule.endpoint in OWN_API_ENDPOINTS:
            assert response.status_code == 404, (credential, method, url, response.status_code, response.json)
        else:
            assert response.status_code not in range(200, 300) and response.status_code != 403, (method, url)
    assert snapshot(db, tenants) == before


@pytest.mark.parametrize("ids", ["ids_b", "ids_b_under_page_a"])
def test_api_objects_of_another_store_are_404_through_the_own_store(app, client, db, tenants, ids):
    headers = bearer(tenants["alice_token"])
    before = snapshot(db, tenants)
    for rule, method in store_scoped_rules(app, "/api/"):
        foreign = (OBJECT_ARGUMENTS & set(rule.arguments)) - ({"page_id"} if ids == "ids_b_under_page_a" else set())
        if not foreign:
            continue
        url = build(app, rule, tenants["store_a"].id, tenants[ids])
        body = API_BODIES.get((rule.endpoint, method))
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot(db, tenants) == before


def test_an_api_key_lists_only_its_own_store(client, tenants):
    response = client.get("/api/stores", headers=bearer(tenants["raw_key_a"]))
    assert [s["id"] for s in response.json["data"]] == [tenants["store_a"].id]


def test_a_user_lists_only_stores_they_belong_to(client, tenants):
    response = client.get("/api/stores", headers=bearer(tenants["alice_token"]))
    assert [s["id"] for s in response.json["data"]] == [tenants["store_a"].id]
