"""JSON API: a store's customers (past buyers) with what they paid, their payments and
subscriptions, and pre-authenticated portal links. Everyone in the store reads; admins, owners
and API keys create portal links."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store, paginate
from checkie.api.customer_schemas import (
    DETAIL_PAYMENTS,
    CustomerDetailSchema,
    PortalLinkSchema,
    customer_detail,
    customer_view,
)
from checkie.api.errors import ApiBlueprint
from checkie.api.payment_schemas import CustomerListArgsSchema, CustomerListSchema, PaymentListSchema
from checkie.api.schemas import PageArgsSchema
from checkie.customers import portal
from checkie.customers.models import Customer, PortalLinkKind
from checkie.extensions import db
from checkie.pagination import decode_cursor, keyset_page
from checkie.payments import reports
from checkie.payments.models import Payment
from checkie.stores.models import Role
from checkie.subscriptions import self_service

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
        """Newest first; `email` matches part of the email, `search` part of the email or the name."""
        store = load_store(store_id)
        email = args.get("email")
        search = args.get("search") if email is None else email
        stmt = reports.customers_query(store.id, search=search, email_only=email is not None)
        page = keyset_page(db.session, stmt, Customer.id, after=decode_cursor(args["cursor"]), limit=args["limit"])
        totals = reports.customer_totals(db.session, store.id, [customer.id for customer in page.rows])
        return listing(page, lambda customer: customer_view(customer, totals[customer.id]))


@blp.route("/<int:store_id>/customers/<int:customer_id>")
class CustomerById(MethodView):
    @auth_required(blp)
    @blp.response(200, CustomerDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, customer_id: int):
        """The customer with their totals, newest payments and subscriptions."""
        store = load_store(store_id)
        customer = reports.get_customer(db.session, store.id, customer_id)
        payments = keyset_page(db.session, reports.customer_payments_query(customer), Payment.id, after=None,
                               limit=DETAIL_PAYMENTS).rows
        totals = reports.customer_totals(db.session, store.id, [customer.id])[customer.id]
        return customer_detail(customer, totals, payments, self_service.subscriptions_of(db.session, customer))


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


@blp.route("/<int:store_id>/customers/<int:customer_id>/portal-link")
class CustomerPortalLink(MethodView):
    @auth_required(blp)
    @blp.response(201, PortalLinkSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, store_id: int, customer_id: int):
        """A pre-authenticated portal link for the customer, returned and not emailed (single use,
        30 minutes; the customer's older unused links stop working)."""
        store = load_store(store_id, required=Role.ADMIN)
        customer = reports.get_customer(db.session, store.id, customer_id)
        link, token = portal.issue_link(db.session, customer, kind=PortalLinkKind.MERCHANT)
        db.session.commit()
        return {"url": portal.portal_url(current_app.config["APP_URL"], token), "expires_at": link.expires_at}
