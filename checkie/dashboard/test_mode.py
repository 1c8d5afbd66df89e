"""The test-mode bar of the dashboard layout (SPEC §5, the test clock): while a store's payments
go through the test provider, every store page shows the store's clock and, for owners and
admins, a form that moves it forward (posted to `subscriptions.advance_clock`).

Not a view module: the template context and the subscriptions views both read it."""
from __future__ import annotations

from datetime import datetime

from flask import g

from checkie import providers
from checkie.dashboard.forms.subscriptions import AdvanceClockForm
from checkie.extensions import db
from checkie.htmx_responses import request
from checkie.subscriptions import clock


def bar_clock() -> datetime | None:
    """The current store's clock while it is in test mode (the bar shows it), else None (no bar)."""
    store = g.get("current_store")
    if store is None or not providers.in_test_mode(store):
        return None
    return clock.now(db.session, store.id)


def is_live() -> bool:
    """Whether the current store takes real money (Stripe with live keys): no bar then, a badge instead."""
    store = g.get("current_store")
    return store is not None and not providers.in_test_mode(store)


def bar_form() -> AdvanceClockForm:
    """The bar's form: the one refused just now (`refused`), with its error, or a blank one
    that comes back to this page."""
    refused = g.get("refused_clock_form")
    if refused is not None:
        return refused
    here = request.full_path if request.query_string else request.path
    return AdvanceClockForm(formdata=None, next=here)


def refused(form: AdvanceClockForm) -> None:
    """Show `form` with its errors in the bar of the page rendered next."""
    g.refused_clock_form = form
