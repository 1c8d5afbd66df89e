"""JSON API: a store's bank account (`/api/stores/<id>/payout-account`) and its payouts.

Everyone in the store reads (viewers too); admins, owners and API keys write. A payout request
honours `Idempotency-Key`. The account number is taken, never shown: only its last 4 digits."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.idempotency import idempotent
from checkie.api.payout_schemas import (
    PayoutAccountBodySchema,
    PayoutAccountSchema,
    PayoutBodySchema,
    PayoutListSchema,
    PayoutSchema,
    payout_view,
)
from checkie.api.schemas import PageArgsSchema
from checkie.api.widget import IDEMPOTENCY_KEY
from checkie.errors import NotFound
from checkie.extensions import db
from checkie.pagination import decode_cursor, keyset_page
from checkie.payments import payouts
from checkie.payments.models import Payout
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_payouts", __name__, url_prefix="/api/stores",
    description="Payouts: the store's bank account and the money paid out of its balance to it.",
)


@blp.route("/<int:store_id>/payout-account")
class PayoutAccount(MethodView):
    @auth_required(blp)
    @blp.response(200, PayoutAccountSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int):
        """The bank account payouts go to (404 before one is set)."""
        account = payouts.payout_account(db.session, load_store(store_id))
        if account is None:
            raise NotFound("This store has no payout account yet.")
        return account

    @auth_required(blp)
    @blp.arguments(PayoutAccountBodySchema)
    @blp.response(200, PayoutAccountSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def put(self, data, store_id: int):
        """Set or replace the bank account; the number is stored encrypted and shown as `last4`."""
        account = payouts.set_payout_account(db.session, load_store(store_id, required=Role.ADMIN), **data)
        db.session.commit()
        return account


@blp.route("/<int:store_id>/payouts")
class Payouts(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PayoutListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's payouts, newest first."""
        stmt = sa.select(Payout).where(Payout.store_id == load_store(store_id).id)
        page = keyset_page(db.session, stmt, Payout.id, after=decode_cursor(args["cursor"]), limit=args["limit"])
        return listing(page)

    @auth_required(blp)
    @blp.arguments(PayoutBodySchema)
    @blp.response(201, PayoutSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @idempotent(lambda store_id, **_: f"payouts:{store_id}")
    def post(self, data, store_id: int):
        """Pay `amount` (minor units) of `currency` out of the available balance to the bank account;
        a task pays it (`requested` → `processing` → `paid` or `failed`). 422 `insufficient_balance`,
        `no_payout_account` or `below_minimum` when it may not."""
        store = load_store(store_id, required=Role.ADMIN)
        payout = payouts.request_payout(db.session, store, amount=data["amount"], currency=data["currency"])
        return payout_view(payout), 201


@blp.route("/<int:store_id>/payouts/<int:payout_id>")
class PayoutById(MethodView):
    @auth_required(blp)
    @blp.response(200, PayoutSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, payout_id: int):
        return payouts.payout_of(db.session, load_store(store_id), payout_id)
