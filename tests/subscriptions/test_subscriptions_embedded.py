"""The embedded profile (SQLite) runs a trial and its renewal on the test clock."""
from __future__ import annotations

import pytest

from tests.embedded import run_python, upgraded

pytestmark = pytest.mark.embedded


def test_a_trial_then_a_renewal_on_sqlite(tmp_path):
    result = run_python(
        """
        import json
        from checkie import create_app
        from checkie.extensions import db
        from checkie.accounts.models import User
        from checkie.catalog.pages import create_page, publish_page
        from checkie.checkout import services as checkout
        from checkie.payments.initiation import initiate_payment
        from checkie.payments.models import Payment
        from checkie.stores.models import Store
        from checkie.subscriptions import renewals, services

        app = create_app()
        with app.app_context():
            s = db.session
            store = Store(name="Acme", slug="acme-sqlite", currency="USD",
                          owner=User(email="owner@example.com", name="Olive", password_hash="x"))
            s.add(store)
            s.flush()
            page = create_page(s, store, title="Club", amount=900, pricing_type="subscription", interval="week",
                               trial_days=3)
            publish_page(s, page)
            session = checkout.open_checkout(s, page, client_info={})
            checkout.update_checkout(s, session, email="sam@example.com", name="Sam")
            s.commit()
            initiate_payment(s, session, payment_method="pm_card_visa")
            s.commit()
            sub = services.subscription_of_checkout(s, session.id)
            trialing = sub.status.value
            counts = [renewals.advance_clock(s, store, days=3)[1], renewals.advance_clock(s, store, days=7)[1]]
            s.refresh(sub)
            print(json.dumps({"trialing": trialing, "status": sub.status.value, "counts": counts,
                              "payments": [p.amount for p in s.query(Payment).order_by(Payment.id)]}))
        """,
        upgraded(tmp_path),
    )
    assert result == {"trialing": "trialing", "status": "active", "counts": [1, 1], "payments": [900, 900]}
