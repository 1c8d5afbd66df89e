"""Dashboard: the test-mode bar (SPEC §5, the test clock). While the store's payments go through
the test provider, every store page shows the store's clock and a button that moves it forward,
running whatever falls due (trial ends, renewals, dunning retries) before it answers.

The bar is rendered by the layout from `bar_clock` and `bar_form` (template context); the
button posts here. Owners and admins only; outside test mode there is nothing to move (404)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, url_for

from checkie import providers
from checkie.dashboard.forms.subscriptions import AdvanceClockForm
from checkie.dashboard.guards import store_required
from checkie.dashboard.subscriptions import render_index
from checkie.extensions import db
from checkie.htmx_responses import request, see_other
from checkie.providers import ProviderNotConfigured
from checkie.stores.models import Role, Store
from checkie.subscriptions import clock, renewals

bp = Blueprint("test_clock", __name__, url_prefix="/dashboard/stores/<int:store_id>/test-clock")


def in_test_mode(store: Store) -> bool:
    try:
        return providers.for_store(store).name == "test"
    except ProviderNotConfigured:
        return False


@bp.post("/advance")
@store_required(Role.ADMIN)
def advance(store: Store):
    if not in_test_mode(store):
        abort(404)
    form = AdvanceClockForm()
    if not form.validate_on_submit():
        # The bar is on every page; its error is shown beside the field on the subscriptions list.
        g.clock_form = form
        return render_index(store, status=422)
    now, renewed = renewals.advance_clock(db.session, store, days=form.days.data)  # it commits
    flash(f"Clock moved to {now:%d %b %Y, %H:%M}; {renewed} renewal{'' if renewed == 1 else 's'} charged.", "success")
    return see_other(_back_to(form.next.data, store))


def _back_to(target: str | None, store: Store) -> str:
    """Where the button was pressed, when that is one of this store's dashboard pages (a path
    here, never another site's address); else the subscriptions list."""
    home = url_for("subscriptions.index", store_id=store.id)
    target = target or ""
    own_page = target == f"/dashboard/stores/{store.id}" or target.startswith(f"/dashboard/stores/{store.id}/")
    if own_page and "\\" not in target and target.isprintable():
        return target
    return home


def bar_clock() -> datetime | None:
    """The current store's clock while it is in test mode (the bar shows it), else None."""
    store = g.get("current_store")
    if store is None or not in_test_mode(store):
        return None
    return clock.now(db.session, store.id)


def bar_form() -> AdvanceClockForm:
    """The bar's form: the one refused just now, with its error, or a blank one that comes back here."""
    refused = g.get("clock_form")
    if refused is not None:
        return refused
    here = request.full_path if request.query_string else request.path
    return AdvanceClockForm(formdata=None, next=here)
