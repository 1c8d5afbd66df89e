"""The intake on the embedded profile (SQLite): a duplicate event is a no-op there too
(a savepoint around the insert instead of PostgreSQL's ON CONFLICT)."""
from __future__ import annotations

import pytest

from tests.embedded import run_python, upgraded

pytestmark = pytest.mark.embedded


def test_duplicate_events_are_stored_once_on_sqlite(tmp_path):
    result = run_python(
        """
        import json
        from checkie import create_app
        from checkie.extensions import db
        from checkie.payments.models import ProviderEvent
        from checkie.providers.stripe import sign_payload

        app = create_app()
        body = json.dumps({"id": "evt_test_1", "object": "event", "type": "customer.created", "data": {"object": {}}}).encode()
        headers = {"Stripe-Signature": sign_payload(body, app.config["TEST_PROVIDER_WEBHOOK_SECRET"])}
        client = app.test_client()
        statuses = [client.post("/api/webhooks/test", data=body, headers=headers).status_code for _ in range(3)]
        bad = client.post("/api/webhooks/test", data=body, headers={"Stripe-Signature": "t=1,v1=00"}).status_code
        with app.app_context():
            rows = db.session.query(ProviderEvent).count()
        print(json.dumps({"statuses": statuses, "bad": bad, "rows": rows}))
        """,
        upgraded(tmp_path),
    )
    assert result == {"statuses": [200, 200, 200], "bad": 400, "rows": 1}
