"""The world the OpenAPI contract tests run against (a user, their store and one of each object
in it, recreated after a case destroys it), the document loaded from the app, and the auth
that hands each case a real access token."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import schemathesis
import sqlalchemy as sa

from checkie import create_app
from checkie.accounts.models import User
from checkie.catalog import coupons, embeds, fields, pages, variants
from checkie.catalog.models import (
    Coupon,
    CustomField,
    Embed,
    Page,
    PageStatus,
    Variant,
    VariantOption,
)
from checkie.checkout import services as checkout_services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.customers import portal
from checkie.customers.models import Customer, PortalLinkKind
from checkie.extensions import db as _db
from checkie.payments.models import Payment, Refund
from checkie.stores import access, api_keys, members
from checkie.stores.models import ApiKey, Role, Store, StoreMember
from checkie.subscriptions.models import Subscription, SubscriptionStatus
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.api.subscribing import subscribe
from tests.factories import make_payment, make_refund, make_store, make_user, make_webhook_delivery, make_webhook_endpoint
from tests.http import access_token_for

#: Fuzzing cases per operation; derandomized, so every run sends the same requests.
MAX_EXAMPLES = 15
#: The widget's `sessionId` in bodies: anything longer is invalid input, left as generated.
SESSION_ID_MAX_LENGTH = 64


def _load_schema():
    """The document is read at collection time (one test per operation), from an app of its own:
    building the document needs no database. Requests go to the session `app` (see the test).
    (`schemathesis.pytest.from_fixture` would load it lazily, but it breaks on pytest 9.2.)"""
    loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", create_app())
    loaded.config.phases.coverage.enabled = os.environ.get("CHECKIE_CONTRACT_COVERAGE", "1") != "0"
    return loaded


schema = _load_schema()


@dataclass
class ApiWorld:
    app: object
    user_id: int | None = None
    store_id: int | None = None
    #: The path ids (`{store_id}`, `{page_id}`, …) of the rows the current case may act on.
    ids: dict = field(default_factory=dict)
    #: The widget's string path parameters (`{store_slug}`, `{session_id}`, the public `{embed_id}`).
    widget_ids: dict = field(default_factory=dict)
    #: The portal's path ids: the subscription's customer's own payment and subscription.
    portal_ids: dict = field(default_factory=dict)
    #: The bearer token of that customer's portal session (`/api/portal/…`), live or minted again.
    portal_token: str | None = None
    #: The access token for the user's current session, and whether the last case may have
    #: changed the world (a write that succeeded), so the next one checks it again.
    token: str | None = None
    dirty: bool = True
    #: How many rows of each kind were (re)created: names stay unique, and the run can show it.
    created: dict = field(default_factory=lambda: dict.fromkeys(
        ("user", "store", "member", "key", "page", "variant", "option", "field", "embed", "coupon",
         "published page", "checkout", "endpoint", "delivery", "payment", "refund", "subscription"), 0))

    def ensure(self) -> str:
        """Make the user, their store and one of each object in it exist (recreating what earlier
        cases deleted) and return an access token for the user's current session. Only after a
        successful write: a rejected or read-only request changes nothing."""
        if not self.dirty:
            return self.token
        with self.app.app_context():
            session = _db.session
            user = self._user(session)
            store = self._store(session, user)
            page = self._page(session, store)
            variant = self._variant(session, page)
            self.ids = {
                "store_id": store.id, "member_id": self._member(session, store, user),
                "key_id": self._key(session, store, user), "page_id": page.id, "variant_id": variant.id,
                "option_id": self._option(session, variant), "field_id": self._field(session, page),
                "embed_id": self._embed(session, store, page), "coupon_id": self._coupon(session, store),
                **self._webhook_ids(session, store), **self._payment_ids(session, store),
                "subscription_id": self._subscription(session, store),
            }
            self.widget_ids = self._widget_ids(session, store)
            self.portal_ids = self._portal_ids(session, self.ids["subscription_id"])
            self.portal_token = self._portal_token(session, self.ids["subscription_id"])
            session.commit()
            self.token = access_token_for(self.app, user)
            session.remove()
        self.dirty = False
        return self.token

    def after(self, case, response) -> None:
        self.after_status(case.method, response.status_code)

    def after_status(self, method: str, status: int) -> None:
        if method.upper() != "GET" and status < 400:
            self.dirty = True

    def point_ids(self, case) -> None:
        """Point path ids (and the widget body's `sessionId`) at the world's rows; an odd
        generated id (an odd-length string) is kept, so "not found" answers are exercised too.
        The portal's ids are its customer's own."""
        ids = {**self.ids, **self.portal_ids} if case.path.startswith("/api/portal/") else self.ids
        for name, value in (case.path_parameters or {}).items():
            if name in ids and isinstance(value, int) and value % 2 == 0:
                case.path_parameters[name] = ids[name]
            elif name in self.widget_ids and isinstance(value, str) and len(value) % 2 == 0:
                case.path_parameters[name] = self.widget_ids[name]
        body = case.body if isinstance(case.body, dict) else {}
        session_id = body.get("sessionId")
        if isinstance(session_id, str) and 0 < len(session_id) <= SESSION_ID_MAX_LENGTH and len(session_id) % 2 == 0:
            body["sessionId"] = self.widget_ids["session_id"]  # only where the document allows the one sent

    def url(self, path: str) -> str:
        """`path` with its parameters filled in with the world's ids."""
        known = {**self.widget_ids, **self.ids}
        return re.sub(r"{(\w+)}", lambda match: str(known[match.group(1)]), path)

    def _next(self, kind: str) -> int:
        self.created[kind] += 1
        return self.created[kind]

    def _user(self, session) -> User:
        user = session.get(User, self.user_id) if self.user_id else None
        if user is None:
            user = make_user(session, email=f"contract-{self._next('user')}@example.com", name="Contract Tester")
            self.user_id = user.id
        return user

    def _store(self, session, user: User) -> Store:
        member = access.membership(session, user.id, self.store_id) if self.store_id else None
        if member is None or member.role is not Role.OWNER:
            store = make_store(session, owner=user, name="Contract Store", slug=f"contract-store-{self._next('store')}")
            self.store_id = store.id
            return store
        return member.store

    def _member(self, session, store: Store, user: User) -> int:
        member = session.scalar(
            sa.select(StoreMember).where(StoreMember.store_id == store.id, StoreMember.role != Role.OWNER).limit(1)
        )
        if member is None:
            email = f"invitee-{self._next('member')}@example.com"
            member = members.invite_member(session, store, email=email, role=Role.VIEWER, invited_by=user)
        return member.id

    def _key(self, session, store: Store, user: User) -> int:
        key = session.scalar(
            sa.select(ApiKey).where(ApiKey.store_id == store.id, ApiKey.revoked_at.is_(None)).limit(1)
        )
        if key is None:
            self._next("key")
            key, _ = api_keys.create_api_key(session, store, name="Contract key", created_by=user)
        return key.id

    def _page(self, session, store: Store) -> Page:
        """A draft page: variants can only be added to pages that are not on sale."""
        page = session.scalar(
            sa.select(Page).where(Page.store_id == store.id, Page.status == PageStatus.DRAFT).order_by(Page.id).limit(1)
        )
        if page is None:
            title = f"Contract page {self._next('page')}"
            page = pages.create_page(session, store, title=title, amount=2500, description="A page to test against.")
        return page

    def _variant(self, session, page: Page) -> Variant:
        variant = session.scalar(sa.select(Variant).where(Variant.page_id == page.id).order_by(Variant.id).limit(1))
        if variant is None:
            variant = variants.add_variant(session, page, name=f"Size {self._next('variant')}")
        return variant

    def _option(self, session, variant: Variant) -> int:
        option = session.scalar(
            sa.select(VariantOption).where(VariantOption.variant_id == variant.id).order_by(VariantOption.id).limit(1)
        )
        if option is None:
            option = variants.add_option(session, variant, name=f"Large {self._next('option')}", price_delta=0)
        return option.id

    def _field(self, session, page: Page) -> int:
        found = session.scalar(
            sa.select(CustomField).where(CustomField.page_id == page.id).order_by(CustomField.id).limit(1)
        )
        if found is None:
            found = fields.create_field(session, page, label=f"Company {self._next('field')}", type="text")
        return found.id

    def _embed(self, session, store: Store, page: Page) -> int:
        embed = session.scalar(sa.select(Embed).where(Embed.store_id == store.id).order_by(Embed.id).limit(1))
        if embed is None:
            self._next("embed")
            embed = embeds.create_embed(session, page, type="inline")
        return embed.id

    def _widget_ids(self, session, store: Store) -> dict:
        """A published page of the store, an open checkout session on it (with the shopper's email,
        so it can be paid for) and an embed of the page."""
        page = session.scalar(
            sa.select(Page).where(Page.store_id == store.id, Page.status == PageStatus.PUBLISHED)
            .order_by(Page.id).limit(1)
        )
        if page is None:
            title = f"Contract published page {self._next('published page')}"
            page = pages.publish_page(session, pages.create_page(session, store, title=title, amount=1500))
        checkout = session.scalar(
            sa.select(CheckoutSession)
            .where(CheckoutSession.page_id == page.id, CheckoutSession.state == CheckoutState.OPEN)
            .order_by(CheckoutSession.created_at.desc()).limit(1)
        )
        if checkout is None:
            self._next("checkout")
            checkout = checkout_services.open_checkout(session, page, client_info={})
            checkout_services.update_checkout(session, checkout, email="shopper@example.com")  # ready to pay
        embed = session.scalar(sa.select(Embed).where(Embed.page_id == page.id).limit(1))
        if embed is None:
            embed = embeds.create_embed(session, page, type="button")
        return {
            "store_slug": store.slug, "page_slug": page.slug, "session_id": checkout.id, "embed_id": embed.public_id,
        }

    def _coupon(self, session, store: Store) -> int:
        coupon = session.scalar(sa.select(Coupon).where(Coupon.store_id == store.id).order_by(Coupon.id).limit(1))
        if coupon is None:
            coupon = coupons.create_coupon(session, store, code=f"CONTRACT{self._next('coupon')}", percent_off=10)
        return coupon.id


    def _payment_ids(self, session, store: Store) -> dict:
        """A payment (large enough that refunds of generated amounts rarely use it up) with a refund."""
        payment = session.scalar(sa.select(Payment).where(Payment.store_id == store.id).order_by(Payment.id).limit(1))
        if payment is None:
            self._next("payment")
            payment = make_payment(session, store, amount=10**12)
        refund = session.scalar(sa.select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id).limit(1))
        if refund is None:
            self._next("refund")
            refund = make_refund(session, payment)
        return {"payment_id": payment.id, "refund_id": refund.id}

    def _subscription(self, session, store: Store) -> int:
        """A subscription that is not canceled yet (cases cancel, pause and resume it), started
        by a real checkout of a subscription page."""
        subscription = session.scalar(
            sa.select(Subscription).where(Subscription.store_id == store.id, Subscription.status != SubscriptionStatus.CANCELED)
            .order_by(Subscription.id).limit(1)
        )
        if subscription is None:
            self._next("subscription")
            subscription = subscribe(session, store)
        return subscription.id

    def _portal_ids(self, session, subscription_id: int) -> dict:
        """The subscription's customer's first payment (its checkout's), for the portal's receipts."""
        subscription = session.get(Subscription, subscription_id)
        payment = session.scalar(sa.select(Payment.id).where(Payment.customer_id == subscription.customer_id)
                                 .order_by(Payment.id).limit(1))
        return {"subscription_id": subscription_id, "payment_id": payment}

    def _portal_token(self, session, subscription_id: int) -> str:
        """The subscription's customer's portal token, signed in again after a case ended it
        (sign-out) or the customer changed (a new subscription)."""
        customer_id = session.get(Subscription, subscription_id).customer_id
        live = portal.session_for(session, self.portal_token) if self.portal_token else None
        if live is not None and live.customer_id == customer_id:
            return self.portal_token
        customer = session.get(Customer, customer_id)
        _, link_token = portal.issue_link(session, customer, kind=PortalLinkKind.REQUESTED)
        _, raw = portal.sign_in(session, link_token)
        return raw

    def _webhook_ids(self, session, store: Store) -> dict:
        """An enabled endpoint (on a closed loopback port: a test event or a resend fails at once,
        on this machine) with a failed delivery to resend and replay."""
        endpoint = session.scalar(
            sa.select(WebhookEndpoint)
            .where(WebhookEndpoint.store_id == store.id, WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id).limit(1)
        )
        if endpoint is None:
            self._next("endpoint")
            endpoint = make_webhook_endpoint(session, store)
        delivery = session.scalar(
            sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id).limit(1)
        )
        if delivery is None:
            self._next("delivery")
            delivery = make_webhook_delivery(session, endpoint, status=DeliveryStatus.FAILED)
        return {"endpoint_id": endpoint.id, "delivery_id": delivery.id}


#: What the auth provider puts on a case; each case swaps it for a token minted just before it
#: runs (a portal token on the portal's paths). (Some cases are built at collection time,
#: before there is a database to mint from.)
USER_TOKEN = "Bearer <user access token>"


@schema.auth(refresh_interval=None, retry_on=[])
class UserToken:
    """Marks the case's auth as real, so schemathesis leaves its own invalid-auth and
    missing-auth cases alone and probes those itself (the ignored_auth check)."""

    def get(self, case, context) -> str:
        return USER_TOKEN

    def set(self, case, token: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": token}
