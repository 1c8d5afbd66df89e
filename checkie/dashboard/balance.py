"""Dashboard: a store's balance — available per currency (StoreBalance, never a SUM of the
ledger), the ledger (keyset pages, newest first) and a report of gross, fees, refunds and net
by day, week or month over a date range. Read-only."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, request

from checkie.dashboard.guards import store_required
from checkie.extensions import db
from checkie.htmx_responses import render_page
from checkie.pagination import InvalidCursor, id_or_none
from checkie.payments import ledger, reports
from checkie.stores.models import Role, Store

bp = Blueprint("balance", __name__, url_prefix="/dashboard/stores/<int:store_id>/balance")
PAGE_SIZE = 50
PERIODS = [(p.value, p.value.capitalize()) for p in reports.Period]


def _date(name: str, default: date) -> date:
    try:
        value = date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return default
    return value if date(1970, 1, 1) <= value <= date(9998, 12, 31) else default


def _report_args() -> tuple[reports.Period, date, date, str | None]:
    """period, from, to (default: the last 30 days by day) and an error for a range refused."""
    period = request.args.get("period", "day")
    period = reports.Period(period) if period in {p.value for p in reports.Period} else reports.Period.DAY
    today = datetime.now(UTC).date()
    date_to = _date("to", today)
    date_from = _date("from", date_to - timedelta(days=29))
    if date_to < date_from or (date_to - date_from).days >= reports.MAX_REPORT_DAYS:
        return period, date_to - timedelta(days=29), date_to, (
            f"Choose a start date before the end date, at most {reports.MAX_REPORT_DAYS} days apart."
        )
    return period, date_from, date_to, None


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    before = id_or_none(request.args.get("before", type=int))
    try:
        rows, more = reports.list_ledger(db.session, store.id, before_id=before, limit=PAGE_SIZE)
    except InvalidCursor:
        (rows, more), before = reports.list_ledger(db.session, store.id, limit=PAGE_SIZE), None
    return render_page(
        "dashboard/balance/index.html", block="ledger", store=store, balances=ledger.balances(db.session, store.id),
        ledger=rows, more=more, paged=bool(before),
    )


@bp.get("/report")
@store_required(Role.VIEWER)
def report(store: Store):
    period, date_from, date_to, error = _report_args()
    rows = reports.balance_report(db.session, store.id, period=period, date_from=date_from, date_to=date_to)
    return render_page(
        "dashboard/balance/report.html", block="report", store=store, rows=rows, period=period.value,
        date_from=date_from, date_to=date_to, error=error, periods=PERIODS,
    )
