"""Dashboard: a store's customers — the list (search by email or name, keyset pages) and one
customer with their payments. Read-only."""
from __future__ import annotations

from flask import Blueprint, request

from checkie.customers.models import Customer
from checkie.dashboard.guards import store_required
from checkie.extensions import db
from checkie.htmx_responses import render_page
from checkie.pagination import id_or_none, keyset_page
from checkie.payments import reports
from checkie.payments.models import Payment
from checkie.stores.models import Role, Store

bp = Blueprint("customers", __name__, url_prefix="/dashboard/stores/<int:store_id>/customers")
PAGE_SIZE = 50


def _before() -> int | None:
    return id_or_none(request.args.get("before", type=int))


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    search = request.args.get("q", "").strip()[:200]
    before = _before()
    rows, more = keyset_page(
        db.session, reports.customers_query(store.id, search=search or None), Customer.id, after=before, limit=PAGE_SIZE
    )
    return render_page(
        "dashboard/customers/index.html", block="customer_list", store=store, customers=rows, more=more,
        paged=bool(before), search=search,
    )


@bp.get("/<int:customer_id>")
@store_required(Role.VIEWER)
def show(store: Store, customer_id: int):
    customer = reports.get_customer(db.session, store.id, customer_id)
    before = _before()
    payments, more = keyset_page(
        db.session, reports.customer_payments_query(customer), Payment.id, after=before, limit=PAGE_SIZE
    )
    return render_page(
        "dashboard/customers/show.html", block="customer_payments", store=store, customer=customer,
        payments=payments, more=more, paged=bool(before),
    )
