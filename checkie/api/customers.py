"""JSON API: a store's customers (past buyers) and their payments, read-only."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.common import auth_required, load_store, paginate
from checkie.api.errors import ApiBlueprint
from checkie.api.payment_schemas import (
    CustomerListArgsSchema,
    CustomerListSchema,
    CustomerSchema,
    PaymentListSchema,
)
from checkie.api.schemas import PageArgsSchema
from checkie.customers.models import Customer
from checkie.extensions import db
from checkie.payments import reports
from checkie.payments.models import Payment

blp = ApiBlueprint(
    "api_customers", __name__, url_prefix="/api/stores",
    description="Customers: one per email address that paid the store.",
)


@blp.route("/<int:store_id>/customers")
class Customers(MethodView):
    @auth_required(blp)
    @blp.arguments(CustomerListArgsSchema, location="query")
    @blp.response(200, CustomerListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """Newest first; `search` matches part of the email or the name."""
        store = load_store(store_id)
        stmt = reports.customers_query(store.id, search=args.get("search"))
        return paginate(stmt, Customer.id, limit=args["limit"], cursor=args["cursor"])


@blp.route("/<int:store_id>/customers/<int:customer_id>")
class CustomerById(MethodView):
    @auth_required(blp)
    @blp.response(200, CustomerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, customer_id: int):
        store = load_store(store_id)
        return reports.get_customer(db.session, store.id, customer_id)


@blp.route("/<int:store_id>/customers/<int:customer_id>/payments")
class CustomerPayments(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PaymentListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int, customer_id: int):
        """The customer's payments, newest first."""
        store = load_store(store_id)
        customer = reports.get_customer(db.session, store.id, customer_id)
        return paginate(reports.customer_payments_query(customer), Payment.id, limit=args["limit"], cursor=args["cursor"])
