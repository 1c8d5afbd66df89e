"""The balance report and the revenue chart on the embedded profile's SQLite (strftime by day,
folded into weeks and months in Python) agree with PostgreSQL's date_trunc."""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie import models  # noqa: F401  (every table on the metadata)
from checkie.extensions import db as _db
from checkie.payments import reports
from checkie.payments.models import (
    BalanceTransaction,
    Payment,
    PaymentStatus,
    TransactionType,
)


def test_report_and_chart_on_sqlite():
    engine = sa.create_engine("sqlite://")
    _db.metadata.create_all(engine)
    with Session(engine) as session:
        # SQLite leaves foreign keys unchecked by default: ledger rows need no store row here.
        for seq, (day, kind, amount) in enumerate([
            ("2024-01-31", TransactionType.PAYMENT, 1000), ("2024-01-31", TransactionType.FEE, -29),
            ("2024-02-01", TransactionType.PAYMENT, 2000), ("2024-02-05", TransactionType.REFUND, -500),
        ], start=1):
            at = datetime.fromisoformat(day).replace(hour=23, tzinfo=UTC)
            session.add(BalanceTransaction(store_id=1, currency="USD", type=kind, amount=amount, balance_after=0,
                                           sequence=seq, created_at=at))
            if kind is TransactionType.PAYMENT:
                session.add(Payment(store_id=1, amount=amount, fee=0, net=amount, currency="USD", amount_refunded=0,
                                    status=PaymentStatus.SUCCEEDED, provider="test", provider_payment_id=f"pi_{seq}",
                                    created_at=at))
        session.flush()

        def report(period):
            rows = reports.balance_report(session, 1, period=period, date_from=date(2024, 1, 1), date_to=date(2024, 2, 29))
            return [(r.start.isoformat(), r.gross, r.fees, r.refunds, r.net) for r in rows]

        assert report(reports.Period.DAY) == [("2024-01-31", 1000, 29, 0, 971), ("2024-02-01", 2000, 0, 0, 2000),
                                              ("2024-02-05", 0, 0, 500, -500)]
        assert report(reports.Period.WEEK) == [("2024-01-29", 3000, 29, 0, 2971), ("2024-02-05", 0, 0, 500, -500)]
        assert report(reports.Period.MONTH) == [("2024-01-01", 1000, 29, 0, 971), ("2024-02-01", 2000, 0, 500, 1500)]
        points = reports.revenue_by_day(session, 1, "USD", days=3, today=date(2024, 2, 1))
        assert [p.amount for p in points] == [0, 1000, 2000]
