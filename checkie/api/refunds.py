"""JSON API: refunds (`POST /api/stores/<id>/payments/<paymentId>/refund`, `GET …/refunds…`).

Everyone in the store reads; owners, admins and API keys refund (viewers 403). A refund
honours `Idempotency-Key` (SPEC §6.6): the same key and body replays the first answer, so a
retried request never refunds twice."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.idempotency import HEADER, idempotent
from checkie.api.payment_schemas import RefundCreateSchema, RefundListSchema, RefundSchema
from checkie.api.schemas import PageArgsSchema
from checkie.checkout.idempotency import KEY_MAX_LENGTH
from checkie.extensions import db
from checkie.pagination import decode_cursor
from checkie.payments import refunds, reports
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_refunds", __name__, url_prefix="/api/stores",
    description="Refunds: money given back on a payment (minor units), through the payment provider.",
)

_IDEMPOTENCY_KEY = {
    "in": "header", "name": HEADER, "required": False,
    "description": "Same key and body: the first answer again (`Idempotent-Replayed: true`); "
    "another body: 422; while the first still runs: 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
}


@blp.route("/<int:store_id>/payments/<int:payment_id>/refund")
class PaymentRefund(MethodView):
    @auth_required(blp)
    @idempotent(lambda store_id, **_: f"refunds:{store_id}")
    @blp.arguments(RefundCreateSchema)
    @blp.response(201, RefundSchema)
    @blp.doc(parameters=[_IDEMPOTENCY_KEY])
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, payment_id: int):
        """Give back `amount` minor units: more than 0 and at most what is left of the payment
        (else 422 `refund_exceeds_payment`). A provider's refusal answers the refund as `failed`."""
        store = load_store(store_id, required=Role.ADMIN)
        payment = reports.get_payment(db.session, store.id, payment_id)
        return refunds.refund_payment(db.session, payment, amount=data["amount"], reason=data["reason"].value)


@blp.route("/<int:store_id>/refunds")
class Refunds(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, RefundListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's refunds, newest first."""
        store = load_store(store_id)
        return listing(refunds.list_refunds(db.session, store.id, before_id=decode_cursor(args["cursor"]), limit=args["limit"]))


@blp.route("/<int:store_id>/refunds/<int:refund_id>")
class RefundById(MethodView):
    @auth_required(blp)
    @blp.response(200, RefundSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, refund_id: int):
        store = load_store(store_id)
        return refunds.get_refund(db.session, store.id, refund_id)
