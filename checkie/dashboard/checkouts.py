"""Dashboard: a store's checkout sessions — the list (filter by state, keyset pages newest
first) and one session with its history (in words) and payment attempts. Read-only."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, request

from checkie.checkout.models import CheckoutSessionTransition, CheckoutState
from checkie.checkout.states import CheckoutEvent
from checkie.dashboard.guards import store_required
from checkie.extensions import db
from checkie.htmx_responses import render_page
from checkie.pagination import InvalidCursor
from checkie.payments import reports
from checkie.stores.models import Role, Store

bp = Blueprint("checkouts", __name__, url_prefix="/dashboard/stores/<int:store_id>/sessions")
PAGE_SIZE = 50
STATES = [(s.value, s.value.replace("_", " ").capitalize()) for s in CheckoutState]

#: What each state-table event means to a merchant reading a session's history.
EVENT_WORDS: dict[str, str] = {
    CheckoutEvent.UPDATE_SESSION: "Details updated",
    CheckoutEvent.INITIATE_PAYMENT: "Payment started",
    CheckoutEvent.PAYMENT_SUCCEEDED: "Payment succeeded",
    CheckoutEvent.PAYMENT_FAILED: "Payment failed",
    CheckoutEvent.REQUIRES_ACTION: "3-D Secure requested",
    CheckoutEvent.ACTION_COMPLETED: "3-D Secure completed",
    CheckoutEvent.ACTION_FAILED: "3-D Secure failed",
    CheckoutEvent.TIMEOUT: "Expired unpaid",
    CheckoutEvent.ABANDON: "Abandoned by the shopper",
}
#: The parts of a session a shopper's update can change (update_checkout's arguments), in words.
CHANGED_WORDS = {
    "email": "email", "name": "name", "variant_options": "options", "custom_fields": "answers",
    "coupon_code": "coupon",
}


@dataclass
class HistoryRow:
    """One line of a session's history: a transition, or a run of consecutive detail updates."""

    first_at: datetime
    at: datetime
    event: str
    from_state: CheckoutState
    to_state: CheckoutState
    detail: dict
    updates: int = 1
    changed: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return EVENT_WORDS.get(self.event, self.event)


def history(transitions: Iterable[CheckoutSessionTransition]) -> list[HistoryRow]:
    """The transitions oldest first, with each run of consecutive detail updates folded into one
    row that says how many there were and what they changed."""
    rows: list[HistoryRow] = []
    for t in transitions:
        changed = [CHANGED_WORDS.get(name, name) for name in (t.detail or {}).get("changed", [])]
        last = rows[-1] if rows else None
        if last is not None and t.event == last.event == CheckoutEvent.UPDATE_SESSION:
            last.at, last.updates = t.at, last.updates + 1
            last.changed += [name for name in changed if name not in last.changed]
            continue
        rows.append(HistoryRow(t.at, t.at, t.event, t.from_state, t.to_state, t.detail or {}, changed=changed))
    return rows


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
        line=reports.checkout_line(db.session, checkout, payment),
        history=history(checkout.transitions),
        attempts=reports.checkout_attempts(db.session, checkout.id),
    )
