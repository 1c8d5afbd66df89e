"""JSON API of the customer portal (SPEC §6.4): `/api/portal/…`.

A customer asks for a magic link by email (`request-access`), trades the link's token for a
portal bearer token (`verify/<token>`, which consumes the link: a JSON client is not a mail
scanner), then reads their purchases and subscriptions and acts on the subscriptions as the
store allows. The bearer token is a portal session: one customer of one store for 24 hours. A
merchant's access token or API key is not one (401), and another customer's ids are 404s.

`request-access` answers the same 202 whether or not the email is a customer, and whether or
not the store exists: the answer must not tell who bought where, and a store slug that names
nothing gains a caller nothing either."""
from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Response, current_app, g, render_template, request
from flask_limiter.util import get_remote_address

from checkie import inputs
from checkie.accounts import limits
from checkie.api.account_schemas import MessageSchema
from checkie.api.errors import ApiBlueprint
from checkie.api.portal_schemas import (
    PortalCancelBodySchema,
    PortalSignInSchema,
    PortalSubscriptionListSchema,
    PortalSubscriptionSchema,
    PurchaseListSchema,
    RequestAccessSchema,
)
from checkie.api.subscription_schemas import subscription_members
from checkie.customers import portal
from checkie.customers.models import Customer, PortalSession
from checkie.errors import AuthenticationFailed
from checkie.extensions import db, limiter
from checkie.stores.models import Store
from checkie.subscriptions import self_service
from checkie.subscriptions.models import Subscription

blp = ApiBlueprint(
    "api_portal", __name__, url_prefix="/api/portal",
    description="The customer portal: a customer signs in with an emailed link and sees their purchases (with "
                "printable receipts) and subscriptions, which they cancel, pause or resume as the store allows.",
)

ACCESS_REQUESTED = "If this email bought from the store, a sign-in link is on its way."


def _submitted_email() -> str:
    """Rate-limit key: the address in the JSON body, however it is spelled; the client's IP when none."""
    body = request.get_json(silent=True)
    return (limits.email_key(body.get("email")) if isinstance(body, dict) else None) or get_remote_address()


def _portal_session() -> PortalSession:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Send an `Authorization: Bearer <portal token>` header.")
    session = portal.session_for(db.session, token.strip())
    if session is None:
        raise AuthenticationFailed("Invalid or expired portal token: ask for a new sign-in link.")
    return session


def portal_auth_required(fn):
    """Authenticate the portal bearer token before the view (and before its body is parsed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        g.portal_session = _portal_session()
        inputs.check_content()
        return fn(*args, **kwargs)

    wrapper = inputs.checks_content_itself(wrapper)
    wrapper = blp.doc(security=[{"portalBearer": []}])(wrapper)
    return blp.alt_response(401, response="UNAUTHORIZED")(wrapper)


def _customer() -> Customer:
    return portal.customer_of(db.session, g.portal_session)


def _store() -> Store:
    return db.session.get_one(Store, g.portal_session.store_id)


def _subscription_view(store: Store, subscription: Subscription) -> dict:
    """The subscription's own members, as the merchant API shows them, and what the customer may do."""
    allowed = [action.value for action in self_service.offered(store, subscription)]
    return {**subscription_members(subscription), "allowed_actions": allowed}


@blp.route("/request-access", methods=["POST"])
@limiter.limit(limits.PER_IP)
@limiter.shared_limit(limits.PER_EMAIL, portal.ACCESS_EMAIL_SCOPE, key_func=_submitted_email)
@blp.arguments(RequestAccessSchema)
@blp.response(202, MessageSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def request_access(data: dict):
    """Email a sign-in link (valid 30 minutes, single use) if the address is a customer of the store.

    The answer is the same whether or not it is, and whether or not the store exists."""
    store = db.session.scalar(sa.select(Store).where(Store.slug == data["store_slug"]))
    if store is not None:
        portal.request_access(db.session, store, data["email"], app_url=current_app.config["APP_URL"])
        db.session.commit()
    return {"message": ACCESS_REQUESTED}


@blp.route("/verify/<token>", methods=["GET"])
@blp.response(200, PortalSignInSchema)
@blp.alt_response(410, response="GONE")
def verify(token: str):
    """Sign in with the token of an emailed link (or of a link the merchant made): the link is
    used up and the answer carries a portal bearer token, valid 24 hours.

    410 `link_invalid` when the link is unknown, used, expired or replaced by a newer one (the
    message says which): ask for a new link."""
    session, bearer = portal.sign_in(db.session, token)
    customer = portal.customer_of(db.session, session)
    store = db.session.get_one(Store, session.store_id)
    db.session.commit()
    return {"token": bearer, "expires_at": session.expires_at, "customer": customer, "store": store}


@blp.route("/sign-out", methods=["POST"])
@portal_auth_required
@blp.response(204)
def sign_out():
    """End the bearer's portal session: the token stops working at once."""
    portal.sign_out(db.session, g.portal_session)
    db.session.commit()
    return Response(status=204)


@blp.route("/purchases", methods=["GET"])
@portal_auth_required
@blp.response(200, PurchaseListSchema)
def purchases():
    """Every payment of the customer in this store, newest first (one page: `nextCursor` is null)."""
    return {"data": self_service.purchases_of(db.session, _customer()), "nextCursor": None}


@blp.route("/purchases/<int:payment_id>/receipt", methods=["GET"])
@portal_auth_required
@blp.response(200, {"type": "string"}, content_type="text/html",
              description="The receipt as a standalone HTML page that prints cleanly.")
@blp.alt_response(404, response="NOT_FOUND")
def receipt(payment_id: int):
    """The receipt of one of the customer's payments, with its refunds (404 for anyone else's)."""
    page = render_template("portal/receipt.html", receipt=self_service.receipt_of(db.session, _customer(), payment_id))
    return Response(page, mimetype="text/html")


@blp.route("/subscriptions", methods=["GET"])
@portal_auth_required
@blp.response(200, PortalSubscriptionListSchema)
def subscriptions():
    """The customer's subscriptions in this store, newest first, each with what they may do to it now."""
    store = _store()
    rows = self_service.subscriptions_of(db.session, _customer())
    return {"data": [_subscription_view(store, row) for row in rows], "nextCursor": None}


def _own_subscription(subscription_id: int) -> Subscription:
    return self_service.subscription_of(db.session, _customer(), subscription_id)


@blp.route("/subscriptions/<int:subscription_id>/cancel", methods=["POST"])
@portal_auth_required
@blp.arguments(PortalCancelBodySchema, required=False)
@blp.response(200, PortalSubscriptionSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def cancel(data: dict, subscription_id: int):
    """Cancel at the end of the current period: it runs, and is not renewed, until then
    (`…/resume` takes that back). 403 `portal_action_not_allowed` when the store does not let
    customers cancel; 409 `invalid_subscription_action` when its status does not allow it."""
    store = _store()
    subscription = self_service.cancel(db.session, store, _own_subscription(subscription_id), reason=data["reason"])
    db.session.commit()
    return _subscription_view(store, subscription)


@blp.route("/subscriptions/<int:subscription_id>/pause", methods=["POST"])
@portal_auth_required
@blp.response(200, PortalSubscriptionSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def pause(subscription_id: int):
    """Stop charging an active subscription until `…/resume`. 403 `portal_action_not_allowed`
    when the store does not let customers pause; 409 when its status does not allow it."""
    store = _store()
    subscription = self_service.pause(db.session, store, _own_subscription(subscription_id))
    db.session.commit()
    return _subscription_view(store, subscription)


@blp.route("/subscriptions/<int:subscription_id>/resume", methods=["POST"])
@portal_auth_required
@blp.response(200, PortalSubscriptionSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def resume(subscription_id: int):
    """Keep one set to cancel at its period's end, or resume a paused one. 403
    `portal_action_not_allowed` when the store does not allow that; 409 otherwise."""
    store = _store()
    subscription = self_service.resume(db.session, store, _own_subscription(subscription_id))
    db.session.commit()
    return _subscription_view(store, subscription)
