"""Payment outcomes and the ledger on the embedded profile (SQLite): the balance row is created
with SQLite's ON CONFLICT DO NOTHING, FOR UPDATE is a no-op there (SQLite has one writer), and
a success still records one payment, one credit and one receipt, and completes the session."""
from __future__ import annotations

import pytest

from tests.embedded import run_python, upgraded

pytestmark = pytest.mark.embedded


def test_a_payment_and_its_ledger_on_sqlite(tmp_path):
    result = run_python(
        """
        import json
        from checkie import create_app
        from checkie.extensions import db
        from checkie.accounts.models import User
        from checkie.catalog.models import Page, PageStatus
        from checkie.checkout import services as checkout
        from checkie.customers.models import Customer
        from checkie.database import utcnow
        from checkie.notifications.models import EmailMessage
        from checkie.payments import ledger, outcomes
        from checkie.payments.initiation import initiate_payment
        from checkie.payments.models import BalanceTransaction, Payment, TransactionType
        from checkie.stores.models import Store

        app = create_app()
        with app.app_context():
            s = db.session
            owner = User(email="owner@example.com", name="Olive", password_hash="x")
            store = Store(name="Acme", slug="acme-sqlite", currency="USD", owner=owner)
            s.add(store)
            s.flush()
            page = Page(store_id=store.id, slug="tote", title="Tote", amount=1050, currency="USD",
                        status=PageStatus.PUBLISHED, published_at=utcnow())
            s.add(page)
            s.flush()
            session = checkout.open_checkout(s, page, client_info={})
            checkout.update_checkout(s, session, email="Buyer@Example.com", name="Bea")
            s.commit()
            attempt = initiate_payment(s, session, payment_method="pm_card_visa")
            s.commit()
            again = outcomes.payment_succeeded(s, provider=attempt.provider, intent_id=attempt.provider_intent_id,
                                               amount=1050, currency="usd", metadata={})
            s.commit()
            ledger.post_entries(s, store.id, "usd", [ledger.Entry(TransactionType.ADJUSTMENT, -20)])
            s.commit()
            rows = s.query(BalanceTransaction).order_by(BalanceTransaction.sequence).all()
            [balance] = ledger.balances(s, store.id)
            s.refresh(session)
            print(json.dumps({
                "state": session.state.value,
                "payments": s.query(Payment).count(),
                "same": again.id == s.query(Payment).one().id,
                "rows": [[r.sequence, r.type.value, r.amount, r.balance_after] for r in rows],
                "balance": [balance.currency, balance.available, balance.last_sequence],
                "customers": [c.email for c in s.query(Customer).all()],
                "receipts": s.query(EmailMessage).filter_by(kind="receipt").count(),
            }))
        """,
        upgraded(tmp_path),
    )
    assert result == {
        "state": "completed",
        "payments": 1,
        "same": True,
        "rows": [[1, "payment", 1050, 1050], [2, "fee", -30, 1020], [3, "adjustment", -20, 1000]],
        "balance": ["USD", 1000, 3],
        "customers": ["buyer@example.com"],
        "receipts": 1,
    }
