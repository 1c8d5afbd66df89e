"""Idempotency keys on the embedded profile (SQLite), which has no row locks: a replay, a
reused key and an expired key behave as on PostgreSQL."""
from __future__ import annotations

import pytest

from tests.embedded import run_python, upgraded

pytestmark = pytest.mark.embedded


def test_replay_reuse_and_expiry_on_sqlite(tmp_path):
    result = run_python(
        """
        import json
        from datetime import timedelta
        import sqlalchemy as sa
        from flask import jsonify
        from checkie import create_app
        from checkie.extensions import db
        from checkie.api.idempotency import run_idempotent
        from checkie.checkout.models import IdempotencyKey
        from checkie.database import utcnow
        app = create_app()
        runs = []
        def work():
            runs.append(1)
            return jsonify({"ok": len(runs)}), 201
        out = []
        with app.test_request_context("/x", method="POST", data=b"{}"):
            r1 = run_idempotent("s", "k", "fp", work)
            r2 = run_idempotent("s", "k", "fp", work)
            r3 = run_idempotent("s", "k", "other", work)
            db.session.execute(sa.update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
            r4 = run_idempotent("s", "k", "other", work)
            n = db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey))
        print(json.dumps({"s": [r.status_code for r in (r1, r2, r3, r4)], "replayed": r2.headers.get("Idempotent-Replayed"), "runs": len(runs), "rows": n}))
        """,
        upgraded(tmp_path),
    )
    assert result == {"s": [201, 201, 422, 201], "replayed": "true", "runs": 2, "rows": 1}
