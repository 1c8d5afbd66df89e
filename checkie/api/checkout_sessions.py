"""JSON API: a store's checkout sessions, read-only (`/api/stores/<storeId>/checkout-sessions…`).

Newest first; the cursor is the last session's id, so pages follow the (store_id, created_at)
index without OFFSET."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.checkout_schemas import (
    CheckoutSessionDetailSchema,
    CheckoutSessionListSchema,
    SessionListArgsSchema,
    checkout_view,
)
from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.checkout.models import CheckoutSession
from checkie.extensions import db
from checkie.pagination import decode_text_cursor
from checkie.payments import reports
from checkie.subscriptions.services import subscription_of_checkout

blp = ApiBlueprint(
    "api_checkout_sessions", __name__, url_prefix="/api/stores",
    description="Checkout sessions: each shopper's attempt to buy a page, with its state history and payment attempts.",
)


@blp.route("/<int:store_id>/checkout-sessions")
class CheckoutSessions(MethodView):
    @auth_required(blp)
    @blp.arguments(SessionListArgsSchema, location="query")
    @blp.response(200, CheckoutSessionListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's checkout sessions, newest first; filter with `state`."""
        store = load_store(store_id)
        page = reports.list_checkouts(
            db.session, store.id, state=args.get("state"), after=decode_text_cursor(args["cursor"]), limit=args["limit"]
        )
        return listing(page, checkout_view)


@blp.route("/<int:store_id>/checkout-sessions/<string:session_id>")
class CheckoutSessionById(MethodView):
    @auth_required(blp)
    @blp.response(200, CheckoutSessionDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, session_id: str):
        """One session with its transition history (from → event → to), its payment attempts, and
        what it sells (`lineItems`, `customFields`): frozen on its payment once paid, else as now."""
        store = load_store(store_id)
        return checkout_detail(reports.get_checkout(db.session, store.id, session_id))


def checkout_detail(checkout: CheckoutSession) -> dict:
    """The session with its transitions, attempts, line and subscription: this answer, and the
    `data` of the session's webhook events."""
    line = reports.checkout_line(db.session, checkout, reports.checkout_payment(db.session, checkout))
    subscription = subscription_of_checkout(db.session, checkout.id)
    return checkout_view(checkout, attempts=reports.checkout_attempts(db.session, checkout.id), line=line,
                         subscription_id=subscription.id if subscription else None)
