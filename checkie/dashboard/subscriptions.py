"""Dashboard: a store's subscriptions — the list (status filter, email search, keyset pages,
newest first), one subscription with its payments and timeline, the actions the table of
checkie.subscriptions.actions allows it now, and the test-mode bar's button that moves the
store's clock (checkie.dashboard.test_mode renders the bar).

Viewers see everything and change nothing; owners and admins act. Each action is a POST to
`/<subscription_id>/<action>`, then post/redirect/get with a flash; a move the table refuses
(a 409, nothing changed) shows the subscription again with the reason."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, url_for

from checkie import providers
from checkie.customers.models import Customer
from checkie.dashboard import test_mode
from checkie.dashboard.forms import ActionForm
from checkie.dashboard.forms.subscriptions import AdvanceClockForm, CancelSubscriptionForm
from checkie.dashboard.guards import store_required
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, request, see_other
from checkie.pagination import id_or_none
from checkie.stores.models import Role, Store
from checkie.subscriptions import actions, renewals, services
from checkie.subscriptions.actions import Action
from checkie.subscriptions.models import Subscription, SubscriptionEvent, SubscriptionStatus

bp = Blueprint("subscriptions", __name__, url_prefix="/dashboard/stores/<int:store_id>")
PAGE_SIZE = 50
STATUSES = [(s.value, s.value.replace("_", " ").capitalize()) for s in SubscriptionStatus]
#: The actions that end a subscription (now or at its period's end): they carry a reason.
CANCELS = (Action.CANCEL_NOW, Action.CANCEL_AT_PERIOD_END)


def current_filters() -> tuple[SubscriptionStatus | None, str | None, dict]:
    """The status and email in the query string (an unknown status is ignored), and them as URL args."""
    value = request.args.get("status", "")
    status = SubscriptionStatus(value) if value in {s.value for s in SubscriptionStatus} else None
    email = request.args.get("q", "").strip()[:254] or None
    return status, email, {"status": status.value if status else None, "q": email}


@bp.get("/subscriptions")
@store_required(Role.VIEWER)
def index(store: Store):
    return render_index(store)


def render_index(store: Store, *, status: int = 200):
    """The list as the query string filters it (and where a refused clock advance shows its error)."""
    wanted, email, args = current_filters()
    before = id_or_none(request.args.get("before", type=int))
    rows, more = services.subscriptions_of(db.session, store, status=wanted, email=email, before_id=before,
                                           limit=PAGE_SIZE)
    _load_customers(rows)
    return render_page(
        "dashboard/subscriptions/index.html", block="subscription_list", status=status, store=store,
        subscriptions=rows, more=more, paged=bool(before), args=args, filtered=any(args.values()), statuses=STATUSES,
        titles=services.titles_of(db.session, rows), price_text=services.price_text,
    )


def _load_customers(rows: list[Subscription]) -> None:
    """The page's customers in one query: each row's `customer` is then found in the session."""
    ids = {row.customer_id for row in rows}
    if ids:
        db.session.scalars(sa.select(Customer).where(Customer.id.in_(ids))).all()


@bp.get("/subscriptions/<int:subscription_id>")
@store_required(Role.VIEWER)
def show(store: Store, subscription_id: int):
    subscription = services.subscription_of(db.session, store, subscription_id)
    return _render_subscription(store, subscription)


@bp.post("/subscriptions/<int:subscription_id>/<action_name>")
@store_required(Role.ADMIN)
def act(store: Store, subscription_id: int, action_name: str):
    action = _action_named(action_name)
    subscription = services.subscription_of(db.session, store, subscription_id)
    form = CancelSubscriptionForm() if action in CANCELS else ActionForm()
    if form.validate_on_submit():
        reason = form.reason.data if isinstance(form, CancelSubscriptionForm) else None
        try:
            subscription = services.perform(db.session, subscription, action, reason=reason)
        except actions.IllegalAction as refused:
            db.session.rollback()
            return _render_subscription(store, subscription, refusal=refused.message, status=409)
        except ValidationFailed as error:
            db.session.rollback()
            copy_errors(form, error)
        else:
            db.session.commit()
            flash(_outcome(action, subscription), "success")
            return see_other(url_for("subscriptions.show", store_id=store.id, subscription_id=subscription.id))
    cancel_form = form if isinstance(form, CancelSubscriptionForm) else None
    return _render_subscription(store, subscription, cancel_form=cancel_form, status=422)


def _action_named(name: str) -> Action:
    """The action the URL names; any other name is no page (404)."""
    try:
        return Action(name)
    except ValueError:
        abort(404)


def _outcome(action: Action, subscription: Subscription) -> str:
    """The flash after an action, saying what happens next."""
    period_end = subscription.current_period_end.strftime("%d %b %Y")
    return {
        Action.CANCEL_NOW: "The subscription was cancelled; nothing more will be charged.",
        Action.CANCEL_AT_PERIOD_END: f"The subscription will end on {period_end}; it is not renewed.",
        Action.UNCANCEL: f"The subscription is no longer set to cancel; it renews on {period_end}.",
        Action.PAUSE: "The subscription is paused; nothing is charged until it resumes.",
        Action.RESUME: f"The subscription was resumed; it renews on {period_end}.",
    }[action]


def _render_subscription(store: Store, subscription: Subscription, *, cancel_form: CancelSubscriptionForm | None = None,
                         refusal: str | None = None, status: int = 200):
    return render_page(
        "dashboard/subscriptions/show.html", status=status, store=store, subscription=subscription,
        title=services.title_of(db.session, subscription), price=services.price_text(subscription),
        payments=services.payments_of(db.session, subscription),
        events=[(event, describe(event)) for event in services.timeline(db.session, subscription)],
        allowed=actions.allowed(subscription), cancel_form=cancel_form or CancelSubscriptionForm(formdata=None),
        refusal=refusal,
    )


# ---------------------------------------------------------------- the test clock


@bp.post("/test-clock/advance")
@store_required(Role.ADMIN)
def advance_clock(store: Store):
    """Move a test-mode store's clock and charge what falls due (the service commits as it goes),
    then go back to the page the button was on. Outside test mode there is no clock to move."""
    if not providers.in_test_mode(store):
        abort(404)
    form = AdvanceClockForm()
    if not form.validate_on_submit():
        test_mode.refused(form)  # the bar is on every page: its error shows on the list
        return render_index(store, status=422)
    now, renewed = renewals.advance_clock(db.session, store, days=form.days.data)
    flash(f"Clock moved to {now:%d %b %Y, %H:%M}; {renewed} renewal{'' if renewed == 1 else 's'} charged.", "success")
    return see_other(_back_to(form.next.data, store))


def _back_to(target: str | None, store: Store) -> str:
    """Where the button was pressed, when that is one of this store's dashboard pages (a path
    here, never another site's address); else the subscriptions list."""
    target = target or ""
    own_page = target == f"/dashboard/stores/{store.id}" or target.startswith(f"/dashboard/stores/{store.id}/")
    if own_page and "\\" not in target and target.isprintable():
        return target
    return url_for("subscriptions.index", store_id=store.id)


# ---------------------------------------------------------------- the timeline in plain words


def describe(event: SubscriptionEvent) -> str:
    """One timeline row as a sentence; its details (ISO times, codes) in the merchant's words."""
    detail = event.detail or {}
    reason = _words(detail.get("reason"))
    if event.kind == "created":
        trial_end = detail.get("trialEnd")
        return f"Started with a free trial until {_date(trial_end)}." if trial_end else "Started with its first payment."
    if event.kind == "trial_ended":
        return f"The trial ended and the first payment was taken; the period runs until {_date(detail.get('periodEnd'))}."
    if event.kind == "renewed":
        paid = "Renewed" if detail.get("paymentId") else "Renewed with nothing to pay"
        return f"{paid}; the period runs until {_date(detail.get('periodEnd'))}."
    if event.kind == "payment_failed":
        said = f"A renewal payment failed ({detail.get('code', 'declined')}, attempt {detail.get('attempt', 1)})"
        if detail.get("final"):
            return f"{said}: that was the last try."
        return f"{said}; it is tried again on {_date(detail.get('retryAt'))}."
    if event.kind == "cancel_scheduled":
        return f"Set to cancel at the end of its period, on {_date(detail.get('endsAt'))} ({reason})."
    if event.kind == "cancel_withdrawn":
        return "No longer set to cancel: it renews as before."
    if event.kind == "paused":
        return "Paused: nothing is charged until it resumes."
    if event.kind == "resumed":
        return f"Resumed; the period runs until {_date(detail.get('periodEnd'))}."
    if event.kind == "canceled":
        return f"Cancelled ({reason})."
    return _words(event.kind).capitalize() + "."


def _date(iso: object) -> str:
    try:
        return datetime.fromisoformat(str(iso)).strftime("%d %b %Y, %H:%M")
    except ValueError:
        return "an unknown date"


def _words(value: object) -> str:
    return str(value or "no reason given").replace("_", " ")
