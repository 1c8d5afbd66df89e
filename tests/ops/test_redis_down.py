"""Redis down: rate limits fall back to the process's memory instead of failing requests.

The limiter is one object per process, so the app whose Redis is unreachable runs in a child
process of its own, on the test database."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from checkie.database import utcnow
from tests.factories import DEFAULT_PASSWORD, make_shop
from tests.widget import WIDGET_SHOP

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"

#: What the child does: a shopper's whole checkout, both log-ins, the probes.
SCRIPT = r"""
import json, re
from checkie import create_app

client = create_app().test_client()
seen = {}
opened = client.get("/api/widget/pages/acme/t-shirt")
seen["open"] = opened.status_code
session_id = opened.json["sessionId"]
seen["save"] = client.patch(f"/api/widget/sessions/{session_id}", json={
    "email": "shopper@example.com", "name": "Sam Shopper", "customFields": {"company": "Initech"}}).status_code
paid = client.post("/api/widget/checkout", json={"sessionId": session_id, "paymentMethod": "pm_card_visa"})
seen["pay"] = [paid.status_code, paid.json.get("status")]
seen["api_login"] = client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
seen["login"] = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token}).status_code
seen["readyz"] = client.get("/readyz").status_code
metrics = client.get("/metrics").get_data(as_text=True)
seen["failures"] = float(re.search(r"^checkie_rate_limit_storage_failures_total (\S+)$", metrics, re.M).group(1))
print(json.dumps(seen))
"""


def _run_with_redis_down() -> dict:
    env = {**os.environ, "REDIS_URL": UNREACHABLE_REDIS, "RATELIMIT_KEY_PREFIX": "redis-down"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    child = subprocess.run([sys.executable, "-c", f"PASSWORD = {DEFAULT_PASSWORD!r}\n" + SCRIPT],
                           env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.strip().splitlines()[-1]), child.stderr


def test_checkout_and_log_in_work_while_redis_is_down_and_the_failure_is_logged_and_counted(db, user, store):
    user.email_verified_at = utcnow()
    make_shop(db, store, **WIDGET_SHOP)
    db.commit()
    seen, log = _run_with_redis_down()
    assert seen["open"] == 200 and seen["save"] == 200
    assert seen["pay"] == [200, "completed"]
    assert seen["api_login"] == 200
    assert seen["login"] == 303
    assert seen["readyz"] == 503
    assert seen["failures"] >= 1
    assert "Rate limit storage unreachable" in log
