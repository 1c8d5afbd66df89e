"""Dashboard: a store's checkout sessions — the list (filter by state, keyset pages newest
first) and one session with its transition history and payment attempts. Read-only."""
from __future__ import annotations

from flask import Blueprint, request

from checkie.checkout.models import CheckoutState
from checkie.dashboard.guards import store_required
from checkie.extensions import db
from checkie.htmx_responses import render_page
from checkie.pagination import InvalidCursor
from checkie.payments import reports
from checkie.stores.models import Role, Store

bp = Blueprint("checkouts", __name__, url_prefix="/dashboard/stores/<int:store_id>/sessions")
PAGE_SIZE = 50
STATES = [(s.value, s.value.replace("_", " ").capitalize()) for s in CheckoutState]


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    state = request.args.get("state", "")
    state = state if state in {s.value for s in CheckoutState} else ""
    after = request.args.get("after") or None
    try:
        rows, more = reports.list_checkouts(
            db.session, store.id, state=CheckoutState(state) if state else None, after=after, limit=PAGE_SIZE
        )
    except InvalidCursor:  # a stale or foreign cursor: start from the newest
        rows, more, after = *reports.list_checkouts(db.session, store.id, limit=PAGE_SIZE), None
    return render_page(
        "dashboard/checkouts/index.html", block="checkout_list", store=store, checkouts=rows, more=more,
        paged=bool(after), state=state, states=STATES,
    )


@bp.get("/<string:session_id>")
@store_required(Role.VIEWER)
def show(store: Store, session_id: str):
    checkout = reports.get_checkout(db.session, store.id, session_id)
    payment = reports.checkout_payment(db.session, checkout)
    return render_page(
        "dashboard/checkouts/show.html", store=store, checkout=checkout, payment=payment,
        attempts=reports.checkout_attempts(db.session, checkout.id),
    )
