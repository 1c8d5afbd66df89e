"""JSON API: a store's payments, read-only (`/api/stores/<storeId>/payments…`), and their CSV export.

Keyset pagination on (store_id, id), newest first; filters narrow the same query."""
from __future__ import annotations

from flask import Response, stream_with_context
from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.payment_schemas import (
    PaymentFilterArgsSchema,
    PaymentListArgsSchema,
    PaymentListSchema,
    PaymentSchema,
)
from checkie.extensions import db
from checkie.pagination import decode_cursor
from checkie.payments import exports, reports

blp = ApiBlueprint(
    "api_payments", __name__, url_prefix="/api/stores",
    description="Payments: money captured for the store (minor units), with fee, net and refunds.",
)


def filters_from(args: dict) -> reports.PaymentFilters:
    names = ("status", "email", "page_id", "date_from", "date_to", "needs_review")
    return reports.PaymentFilters(**{name: args.get(name) for name in names})


def csv_response(store_id: int, filters: reports.PaymentFilters) -> Response:
    body = stream_with_context(exports.payments_csv(db.session, store_id, filters))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="payments-{store_id}.csv"'
    return response


@blp.route("/<int:store_id>/payments")
class Payments(MethodView):
    @auth_required(blp)
    @blp.arguments(PaymentListArgsSchema, location="query")
    @blp.response(200, PaymentListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """Newest first; filter by `status`, `email` (an address or part of one), `pageId`, the
        UTC days `from`–`to` (inclusive) and `needsReview`."""
        store = load_store(store_id)
        return listing(reports.list_payments(
            db.session, store.id, filters_from(args), before_id=decode_cursor(args["cursor"]), limit=args["limit"]
        ))


@blp.route("/<int:store_id>/payments/export")
class PaymentsExport(MethodView):
    @auth_required(blp)
    @blp.arguments(PaymentFilterArgsSchema, location="query")
    @blp.response(200, {"type": "string"}, content_type="text/csv",
                  description="CSV: a header row, then one payment per row, newest first.")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """Every payment matching the same filters as the list, as CSV (streamed)."""
        store = load_store(store_id)
        return csv_response(store.id, filters_from(args))


@blp.route("/<int:store_id>/payments/<int:payment_id>")
class PaymentById(MethodView):
    @auth_required(blp)
    @blp.response(200, PaymentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, payment_id: int):
        store = load_store(store_id)
        return reports.get_payment(db.session, store.id, payment_id)
