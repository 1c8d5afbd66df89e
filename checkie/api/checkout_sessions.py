"""JSON API: a store's checkout sessions, read-only (`/api/stores/<storeId>/checkout-sessions…`).

Newest first; the cursor is the last session's id, so pages follow the (store_id, created_at)
index without OFFSET."""
from __future__ import annotations

import base64
import binascii

from flask.views import MethodView

from checkie.api.checkout_schemas import (
    CheckoutSessionDetailSchema,
    CheckoutSessionListSchema,
    SessionListArgsSchema,
    session_view,
)
from checkie.api.common import auth_required, load_store
from checkie.api.errors import ApiBlueprint
from checkie.errors import NotFound, ValidationFailed
from checkie.extensions import db
from checkie.payments import reports

blp = ApiBlueprint(
    "api_checkout_sessions", __name__, url_prefix="/api/stores",
    description="Checkout sessions: each shopper's attempt to buy a page, with its state history and payment attempts.",
)


def _encode(session_id: str) -> str:
    return base64.urlsafe_b64encode(session_id.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise ValidationFailed.on("cursor", "Invalid cursor.") from None


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
        try:
            rows, more = reports.list_sessions(
                db.session, store.id, state=args.get("state"), after=_decode(args["cursor"]), limit=args["limit"]
            )
        except NotFound:
            raise ValidationFailed.on("cursor", "Invalid cursor.") from None
        return {"data": [session_view(s) for s in rows], "nextCursor": _encode(rows[-1].id) if more else None}


@blp.route("/<int:store_id>/checkout-sessions/<string:session_id>")
class CheckoutSessionById(MethodView):
    @auth_required(blp)
    @blp.response(200, CheckoutSessionDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, session_id: str):
        """One session with its transition history (from → event → to) and its payment attempts."""
        store = load_store(store_id)
        checkout = reports.get_session(db.session, store.id, session_id)
        return session_view(checkout, attempts=reports.session_attempts(db.session, checkout.id))
