"""Where one request's cost goes, without a server or contention (`bench/run` measures the
totals; this explains them): `.venv/bin/python bench/inprocess.py [--requests 200] [--cprofile]`

Same throwaway database, seed and production environment as bench/run, but the app runs in this
process through Flask's test client. For the hosted checkout page and for each step of a widget
checkout it reports the SQL statements per request (round trips to PostgreSQL, counted with a
SQLAlchemy listener; the pool's pre-ping included), the CPU milliseconds of this process per
request, and the wall milliseconds. --cprofile adds the functions with the most cumulative time;
--sql prints the statements of the last request of each kind.
Cleans up the database and its Redis keys at the end.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request of each kind")
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"),
                        help="--cprofile order: cumulative (Checkie's own functions) or tottime (every function)")
    args = parser.parse_args()
    harness.LOGS.mkdir(parents=True, exist_ok=True)
    run = harness.Run()
    try:
        env = harness.app_environment(run, 5000)
        harness._admin_sql(f'CREATE DATABASE "{run.database}"')
        run.database_created = True
        subprocess.run([str(harness.BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=harness.ROOT, env=env,
                       check=True, capture_output=True)
        seeded = subprocess.run([str(harness.BIN / "python"), "bench/seed.py"], cwd=harness.ROOT,
                                env={**env, "PYTHONPATH": str(harness.ROOT)}, check=True, capture_output=True, text=True)
        shop = json.loads(seeded.stdout.strip().splitlines()[-1])
        os.environ.clear()
        os.environ.update({**env, "LOG_JSON": "0", "ACCESS_LOG": "0"})  # logs are measured by bench/run, not here
        measure(shop, args.requests, args.cprofile, args.sql, args.sort)
    finally:
        run.cleanup()
    return 0


def measure(shop: dict, count: int, with_cprofile: bool, with_sql: bool = False, sort: str = "cumulative") -> None:
    sys.path.insert(0, str(harness.ROOT))
    from sqlalchemy import event

    from checkie import create_app
    from checkie.extensions import db

    app = create_app()
    statements = {"n": 0}
    last_request: list[str] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args, **_kwargs):
        statements["n"] += 1
        last_request.append(" ".join(statement.split())[:160])

    # A pre-ping is a `SELECT 1` psycopg sends outside this hook; count checkouts from the pool.
    @event.listens_for(engine, "checkout")
    def _ping(*_args, **_kwargs):
        statements["n"] += 1
        last_request.append("(pool checkout: pre-ping)")

    client = app.test_client()
    widget = "/api/widget"
    # A session to show (opening the hosted page writes none: the shopper's first save does).
    opened = client.get(f"{widget}/pages/{shop['store']}/{shop['page']}")
    page_path = f"/c/s/{opened.json['sessionId']}"
    print(f"{'request':<38} {'SQL/req':>8} {'CPU ms/req':>11} {'wall ms/req':>12}   (in-process, {count} each)")

    def timed(name: str, fn, n: int = count) -> None:
        fn()  # warm: templates compiled, statements cached
        statements["n"] = 0
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            last_request.clear()
            fn()
        if with_sql:
            print(f"--- {name}: the statements of its last request")
            print("\n".join(f"  {line}" for line in last_request))
        row = (name, statements["n"] / n, 1000 * (time.process_time() - cpu) / n, 1000 * (time.perf_counter() - wall) / n)
        print(f"{row[0]:<38} {row[1]:8.1f} {row[2]:11.2f} {row[3]:12.2f}", flush=True)

    def ok(response, status=200):
        assert response.status_code == status, (response.status_code, response.get_data()[:300])
        return response

    timed("hello-equivalent: GET /healthz", lambda: ok(client.get("/healthz")))
    timed("checkout page GET /c/s/<id>", lambda: ok(client.get(page_path)))
    timed("page GET /c/<store>/<page> (a view)", lambda: ok(client.get(f"/c/{shop['store']}/{shop['page']}")))

    # The widget checkout, one step at a time over fresh sessions.
    sessions: list[str] = []
    timed("widget open", lambda: sessions.append(
        ok(client.get(f"{widget}/pages/{shop['store']}/{shop['page']}")).json["sessionId"]), n=count)
    todo = iter(sessions)
    timed("widget patch", lambda: ok(client.patch(f"{widget}/sessions/{next(todo)}", json={
        "email": f"s-{uuid.uuid4().hex[:10]}@example.com", "name": "Sam Shopper",
        "variantOptions": shop["variantOptions"], "customFields": shop["customFields"]})), n=count)
    todo = iter(sessions)
    timed("widget checkout (pm_card_visa)", lambda: ok(client.post(
        f"{widget}/checkout", json={"sessionId": next(todo), "paymentMethod": "pm_card_visa"},
        headers={"Idempotency-Key": uuid.uuid4().hex})), n=count)
    todo = iter(sessions)
    timed("widget status", lambda: ok(client.get(f"{widget}/sessions/{next(todo)}/status")), n=count)
    timed("webhook intake (its event, applied)", intake_of_each_payment(app, client, count), n=count)

    print("(SQL/req counts statements plus one pool checkout — the pre-ping round trip — per request)")

    if with_cprofile:
        print_profiles(client, shop, page_path, count, sort)


def print_profiles(client, shop: dict, page_path: str, count: int, sort: str) -> None:
    """cProfile (CPU time) of the checkout page and of the widget's pay, `sort`ed."""
    widget = "/api/widget"
    for name, fn in (("checkout page", lambda: client.get(page_path)),
                     ("widget checkout", None)):
        if fn is None:
            fresh = [client.get(f"{widget}/pages/{shop['store']}/{shop['page']}").json["sessionId"]
                     for _ in range(count // 2)]
            for session_id in fresh:
                client.patch(f"{widget}/sessions/{session_id}", json={
                    "email": "s@example.com", "variantOptions": shop["variantOptions"],
                    "customFields": shop["customFields"]})
            pending = iter(fresh)

            def fn(pending=pending):
                return client.post(f"{widget}/checkout",
                                   json={"sessionId": next(pending), "paymentMethod": "pm_card_visa"})
            n = len(fresh)
        else:
            n = count
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: waiting on PostgreSQL costs no CPU here
        profiler.enable()
        for _ in range(n):
            fn()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        if sort == "cumulative":
            stats.sort_stats(sort).print_stats(r"checkie/|psycopg/connection|jinja2/environment", 30)
        else:
            stats.sort_stats(sort).print_stats(40)
        print(f"\n=== cProfile, {name}, {n} requests ({sort}) ===")
        print("\n".join(out.getvalue().splitlines()[:60]))


def intake_of_each_payment(app, client, count: int):
    """What posts the checkouts' test-provider events to POST /api/webhooks/test one at a time,
    signed as the worker's task signs them, through the test client (the payments were already
    recorded by the widget's pay, so each is the duplicate the intake must recognise)."""
    from urllib.parse import urlsplit

    import sqlalchemy as sa

    from checkie.extensions import db
    from checkie.payments.models import TestProviderEvent
    from checkie.providers.test import TestProvider

    with app.app_context():
        payloads = iter(db.session.scalars(sa.select(TestProviderEvent.payload).order_by(TestProviderEvent.created_at)
                                           .limit(count + 1)).all())
    provider = TestProvider(app_url=app.config["APP_URL"], webhook_secret=app.config["TEST_PROVIDER_WEBHOOK_SECRET"],
                            transport=lambda url, body, headers: client.post(urlsplit(url).path, data=body,
                                                                            headers=headers).status_code)

    def post_one() -> None:
        status = provider.post_event(next(payloads))
        assert status == 200, status

    return post_one


if __name__ == "__main__":
    sys.exit(main())
