"""Dashboard: a store's customers — the list (search by email or name, keyset pages, what each
paid) and one customer with their payments, subscriptions, totals and portal activity. Everyone
in the store reads; owners and admins send a customer a portal sign-in link."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request, url_for

from checkie.customers import portal
from checkie.customers.models import Customer, PortalLinkKind
from checkie.dashboard.guards import store_required
from checkie.database import utcnow
from checkie.extensions import db
from checkie.htmx_responses import render_page, see_other
from checkie.pagination import id_or_none, keyset_page
from checkie.payments import reports
from checkie.payments.models import Payment
from checkie.stores.models import Role, Store
from checkie.subscriptions import self_service, services

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
        paged=bool(before), search=search, totals=reports.customer_totals(db.session, store.id, [row.id for row in rows]),
    )


@bp.get("/<int:customer_id>")
@store_required(Role.VIEWER)
def show(store: Store, customer_id: int):
    """The customer's page; its payments block pages by itself over htmx."""
    customer = reports.get_customer(db.session, store.id, customer_id)
    before = _before()
    payments, more = keyset_page(
        db.session, reports.customer_payments_query(customer), Payment.id, after=before, limit=PAGE_SIZE
    )
    links, sign_ins = portal.activity(db.session, customer)
    return render_page(
        "dashboard/customers/show.html", block="customer_payments", store=store, customer=customer,
        payments=payments, more=more, paged=bool(before), links=links, sign_ins=sign_ins, now=utcnow(),
        totals=reports.customer_totals(db.session, store.id, [customer.id])[customer.id],
        subscriptions=self_service.subscriptions_of(db.session, customer), price_text=services.price_text,
    )


@bp.post("/<int:customer_id>/portal-link")
@store_required(Role.ADMIN)
def send_portal_link(store: Store, customer_id: int):
    """Email the customer a sign-in link to the portal (the same rules as one they ask for:
    single use, 30 minutes, their older links stop working). CSRF is checked before this runs."""
    customer = reports.get_customer(db.session, store.id, customer_id)
    portal.email_link(db.session, store, customer, kind=PortalLinkKind.MERCHANT, app_url=current_app.config["APP_URL"])
    db.session.commit()
    minutes = int(portal.LINK_LIFETIME.total_seconds() // 60)
    flash(f"A sign-in link was emailed to {customer.email}; it works once, for {minutes} minutes.", "success")
    return see_other(url_for("customers.show", store_id=store.id, customer_id=customer.id))
