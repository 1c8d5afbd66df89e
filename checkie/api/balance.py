"""JSON API: a store's balance (the ledger's head per currency), its ledger and a report of
gross, fees, refunds and net by day, week or month."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.payment_schemas import (
    BalanceSchema,
    BalanceTransactionListSchema,
    LedgerArgsSchema,
    ReportArgsSchema,
    ReportSchema,
)
from checkie.extensions import db
from checkie.pagination import decode_cursor
from checkie.payments import ledger, reports

blp = ApiBlueprint(
    "api_balance", __name__, url_prefix="/api/stores",
    description="Balance: what the store holds per currency (minor units), its append-only ledger and reports.",
)


@blp.route("/<int:store_id>/balance")
class Balance(MethodView):
    @auth_required(blp)
    @blp.response(200, BalanceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int):
        """Available balance per currency (none before the first payment)."""
        store = load_store(store_id)
        return {"balances": ledger.balances(db.session, store.id)}


@blp.route("/<int:store_id>/balance/transactions")
class BalanceTransactions(MethodView):
    @auth_required(blp)
    @blp.arguments(LedgerArgsSchema, location="query")
    @blp.response(200, BalanceTransactionListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The ledger, newest first; optionally one `currency`."""
        store = load_store(store_id)
        return listing(reports.list_ledger(
            db.session, store.id, currency=args.get("currency"), before_id=decode_cursor(args["cursor"]), limit=args["limit"],
        ))


@blp.route("/<int:store_id>/balance/report")
class BalanceReport(MethodView):
    @auth_required(blp)
    @blp.arguments(ReportArgsSchema, location="query")
    @blp.response(200, ReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """Gross, fees, refunds and net per `period` (day, week from Monday, month) and currency,
        over the UTC days `from`–`to` (inclusive, at most two years; by default the last 30 days)."""
        store = load_store(store_id)
        date_to = args.get("date_to") or datetime.now(UTC).date()
        date_from = args.get("date_from") or date_to - timedelta(days=29)
        rows = reports.balance_report(db.session, store.id, period=args["period"], date_from=date_from, date_to=date_to)
        return {"period": args["period"], "rows": rows}
