"""Webhook fan-out (SPEC §12: ≥ 500 deliveries/s from one consumer host to a local receiver).

`bench/run webhooks` (this part alone, about a minute), or `.venv/bin/python bench/webhook_fanout.py`;
`bench/run` runs it after the other measurements. See bench/README.md.

1. a throwaway database (migrated), a Huey queue of its own in Redis, and the receiver
   (bench/webhook_receiver.py: aiohttp on 127.0.0.1, 200 to everything);
2. a merchant, a store and one endpoint at the receiver, made through the services; then
   BENCH_WEBHOOK_DELIVERIES (10,000) `payment.completed` events with one pending delivery each,
   written with set-based SQL, and their `deliver_webhook` tasks queued, as `record_event`
   queues them after its commit;
3. a real `huey_consumer checkie.worker.huey` with the other benchmarks' settings (threads,
   BENCH_CONSUMER_WORKERS) drains them: deliveries/s = deliveries ÷ the time from the first
   to the last arrival at the receiver; every row must end `succeeded` and every event id arrive;
4. the ceiling: the consumer stopped, the same bodies (signed beforehand) posted by this one
   process through the very client the engine uses (`checkie.webhooks.client.post`) from as
   many threads as the consumer has workers, timed the same way at the receiver.

The consumer runs in the development profile: the receiver is on loopback, which only
`WEBHOOK_ALLOW_PRIVATE_URLS=1` lets a delivery reach, and production refuses to start with it.
Everything else is the production environment of the other benchmarks (fresh secrets, JSON
logs, no immediate Huey). Prints one JSON line last (for bench/harness.py) with `--json`,
else a small table; exit status as bench/run's (0 met, 1 missed, 2 failed).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `import checkie` when run as a script

from harness import (  # noqa: E402  (bench/ is this script's directory)
    BIN,
    LOGS,
    ROOT,
    SETTINGS,
    HarnessError,
    Run,
    _admin_sql,
    _on_sigterm,
    _stop,
    app_environment,
    backend_cpu_seconds,
    backends_cpu_used,
    cpu_seconds,
    free_port,
    group_cpu_seconds,
    loadavg,
    log,
    machine_cpu,
    report,
    wait_for,
)

DELIVERIES = int(os.environ.get("BENCH_WEBHOOK_DELIVERIES", 10_000))
EVENT_TYPE = "payment.completed"
#: `thread` as for the other benchmarks; `process` shows what the GIL costs (not the budget's setting).
WORKER_TYPE = os.environ.get("BENCH_CONSUMER_WORKER_TYPE", "thread")


def fanout_environment(run: Run) -> dict:
    """The other benchmarks' production environment, but the development profile with
    private URLs allowed (production refuses that flag) and production's JSON logs kept."""
    env = app_environment(run, free_port())
    env.update({"CHECKIE_ENV": "development", "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
                "LOG_JSON": env.get("LOG_JSON", "1"), "PYTHONPATH": str(ROOT)})
    return env


def payment_view(number: int) -> dict:
    """An event's `data` shaped like the JSON API's payment (what `payment.completed` carries)."""
    return {
        "id": number, "amount": 3300, "fee": 96, "net": 3204, "currency": "USD", "status": "succeeded",
        "amountRefunded": 0, "customerId": 1, "checkoutSessionId": "cs_bench_session_0000000000000001",
        "pageId": 1, "email": "shopper@example.com", "needsReview": False, "reviewReason": None,
        "pageTitle": "Bench T-shirt",
        "lineItems": [{"variant": "Size", "option": "L", "priceDelta": 500},
                      {"variant": "Color", "option": "Indigo", "priceDelta": 300}],
        "customFields": [{"key": "company", "label": "Company", "value": "Initech"},
                         {"key": "phone", "label": "Phone", "value": "+1 555 0100"},
                         {"key": "gift_wrap", "label": "Gift wrap", "value": True},
                         {"key": "delivery", "label": "Delivery", "value": "Express"},
                         {"key": "note", "label": "Note for the printer", "value": "Please fold, do not roll."}],
        "couponCode": None, "createdAt": "2026-01-01T12:00:00+00:00",
    }


# ---------------------------------------------------------------- preparing (in this process)


def prepare(receiver_url: str) -> dict:
    """Merchant, store and endpoint through the services; the events and deliveries with
    set-based SQL; one queued `deliver_webhook` task per delivery."""
    import sqlalchemy as sa

    from checkie import create_app
    from checkie.accounts.services import create_user
    from checkie.database import utcnow
    from checkie.extensions import db
    from checkie.stores.services import create_store
    from checkie.webhooks import services
    from checkie.webhooks.tasks import deliver_webhook

    app = create_app()
    with app.app_context():
        session = db.session
        owner = create_user(session, email="bench-webhooks@example.com", password=os.urandom(16).hex(),
                            name="Bench Merchant", verified=True)
        session.flush()
        store = create_store(session, owner=owner, name="Bench Webhooks", currency="USD", slug="bench-webhooks")
        endpoint, secret = services.create_endpoint(session, store, url=receiver_url, events=[EVENT_TYPE])
        session.commit()

        event_ids = [services.new_event_id() for _ in range(DELIVERIES)]
        now = utcnow()
        session.execute(sa.text(
            "INSERT INTO webhook_events (id, store_id, type, data, created_at) "
            "SELECT e.id, :store, :type, jsonb_set(CAST(:data AS jsonb), '{id}', to_jsonb(e.n)), :now "
            "FROM unnest(CAST(:ids AS text[])) WITH ORDINALITY AS e(id, n)"
        ), {"store": store.id, "type": EVENT_TYPE, "data": json.dumps(payment_view(0)), "ids": event_ids, "now": now})
        delivery_ids = list(session.scalars(sa.text(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, status, attempts, next_attempt_at, created_at) "
            "SELECT id, :endpoint, 'pending', 0, :now, :now FROM webhook_events WHERE store_id = :store "
            "ORDER BY id RETURNING id"
        ), {"endpoint": endpoint.id, "store": store.id, "now": now}))
        session.commit()
        for delivery_id in delivery_ids:  # as record_event's after-commit hook does, one task each
            deliver_webhook(delivery_id)
    return {"app": app, "event_ids": event_ids, "secret": secret}


def signed_requests(app, secret: str) -> list[tuple[str, bytes, dict]]:
    """The body of every delivery as the engine builds it, signed now (before the clock starts)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import joinedload

    from checkie.extensions import db
    from checkie.webhooks import delivery, signing
    from checkie.webhooks.models import WebhookDelivery

    with app.app_context():
        rows = db.session.scalars(sa.select(WebhookDelivery).options(joinedload(WebhookDelivery.event),
                                                                      joinedload(WebhookDelivery.endpoint)))
        requests = []
        stamp = int(time.time())
        for row in rows:
            body = delivery.event_body(row)
            headers = {"Content-Type": "application/json", "User-Agent": "Checkie-Webhooks/1",
                       **signing.signature_headers(row.event_id, body, [secret], timestamp=stamp)}
            requests.append((row.endpoint.url, body, headers))
        db.session.remove()
    return requests


# ---------------------------------------------------------------- measuring


def receiver_stats(base: str) -> dict:
    with urllib.request.urlopen(base + "/stats", timeout=10) as answer:
        return json.loads(answer.read())


def cpu_snapshot(consumer: int, receiver: int, database: str) -> dict:
    """CPU seconds so far of the consumer (its process group), the receiver, the database's
    backends and the machine."""
    busy, total = machine_cpu()
    return {"consumer": group_cpu_seconds(consumer), "receiver": cpu_seconds(receiver),
            "backends": backend_cpu_seconds(database), "machine_busy": busy, "machine_total": total}


def cpu_shares(first: dict, last: dict, window_s: float) -> dict:
    """Cores used between two snapshots: consumer, receiver, PostgreSQL (the database's backends;
    one born meanwhile counts from zero), and the whole machine's busy fraction."""
    postgres = backends_cpu_used(first["backends"], last["backends"])
    total = last["machine_total"] - first["machine_total"]
    return {
        "consumer_cores": (last["consumer"] - first["consumer"]) / window_s,
        "receiver_cores": (last["receiver"] - first["receiver"]) / window_s,
        "postgres_cores": postgres / window_s,
        "consumer_cpu_s": last["consumer"] - first["consumer"],
        "machine_busy": (last["machine_busy"] - first["machine_busy"]) / total if total else 0.0,
    }


def drain(run: Run, env: dict, base: str, receiver: subprocess.Popen) -> dict:
    """Start the consumer and wait (bounded) until the receiver has every delivery; the CPU
    each party used from the first arrival to the last."""
    workers = SETTINGS["consumer_workers"]
    consumer = run.start("webhook-consumer", [str(BIN / "huey_consumer"), "checkie.worker.huey", "--workers",
                                              str(workers), "--worker-type", WORKER_TYPE], env)
    started_at, deadline = time.time(), time.monotonic() + max(120, DELIVERIES / 50)
    first = None
    count = 0
    while count < DELIVERIES and time.monotonic() < deadline:
        if consumer.poll() is not None:
            raise HarnessError(f"the consumer exited with {consumer.returncode}; see {LOGS / 'webhook-consumer.log'}")
        time.sleep(0.05)
        count = receiver_stats(base)["count"]
        if count and first is None:
            first = cpu_snapshot(consumer.pid, receiver.pid, run.database)
    last = cpu_snapshot(consumer.pid, receiver.pid, run.database)
    stats = receiver_stats(base)
    settled = wait_settled(env)
    _stop("webhook-consumer", consumer)
    window = (stats["last"] - stats["first"]) if stats["count"] > 1 else 0.0
    return {
        "workers": workers, "worker_type": WORKER_TYPE, "received": stats["count"], "window_s": window,
        "per_s": stats["count"] / window if window else 0.0,
        "start_to_first_s": None if stats["first"] is None else stats["first"] - started_at,
        "cpu": cpu_shares(first or last, last, window or 1.0),
        "event_ids": stats["eventIds"], "statuses": settled["statuses"], "attempts": settled["attempts"],
        "attempt_ms": settled["attempt_ms"],
    }


def wait_settled(env: dict, seconds: float = 30) -> dict:
    """The deliveries' statuses once none is pending (or after `seconds`), their attempts, and
    the attempts' own durations (the POST as the engine timed it)."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        while True:
            statuses = dict(connection.execute(
                "SELECT status, count(*) FROM webhook_deliveries GROUP BY status").fetchall())
            if not statuses.get("pending") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        attempts = connection.execute("SELECT count(*) FROM webhook_attempts").fetchone()[0]
        p50, p99 = connection.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM webhook_attempts").fetchone()
    return {"statuses": statuses, "attempts": attempts, "attempt_ms": {"p50": p50, "p99": p99}}


def ceiling(base: str, requests: list[tuple[str, bytes, dict]], workers: int) -> dict:
    """The same POSTs from this process through `client.post`, `workers` at a time."""
    from checkie.webhooks import client

    urllib.request.urlopen(urllib.request.Request(base + "/reset", method="POST"), timeout=10).close()

    def send(request: tuple[str, bytes, dict]) -> bool:
        url, body, headers = request
        return client.post(url, body, headers, allow_private=True).succeeded

    cpu_before, wall_before = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        succeeded = sum(pool.map(send, requests))
    cpu, wall = time.process_time() - cpu_before, time.monotonic() - wall_before
    stats = receiver_stats(base)
    window = (stats["last"] - stats["first"]) if stats["count"] > 1 else 0.0
    return {"workers": workers, "received": stats["count"], "succeeded": succeeded, "window_s": window,
            "per_s": stats["count"] / window if window else 0.0, "wall_s": wall, "cpu_s": cpu}


def measure(run: Run) -> dict:
    results: dict = {"deliveries": DELIVERIES, "load": {"before": loadavg()}}
    env = fanout_environment(run)
    _admin_sql(f'CREATE DATABASE "{run.database}"')
    run.database_created = True
    log(f"webhooks: database {run.database}, migrating")
    with open(LOGS / "webhooks-migrate.log", "wb") as out:
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       stdout=out, stderr=subprocess.STDOUT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    receiver = run.start("webhook-receiver", [str(BIN / "python"), "bench/webhook_receiver.py", "--port", str(port)],
                         env)
    wait_for(base + "/stats", receiver, "webhook-receiver")

    os.environ.update(env)  # before checkie is imported: Huey reads its queue's name and Redis from it
    started = time.monotonic()
    prepared = prepare(base + "/hooks/checkie")
    log(f"webhooks: {DELIVERIES:,} pending deliveries written and queued in {time.monotonic() - started:.1f} s; "
        f"consumer with {SETTINGS['consumer_workers']} threads draining")

    fanout = drain(run, env, base, receiver)
    received = fanout.pop("event_ids")
    fanout["missing"] = len(set(prepared["event_ids"]) - set(received))
    fanout["duplicates"] = len(received) - len(set(received))
    results["fanout"] = fanout
    log(f"webhooks: {fanout['per_s']:.0f} deliveries/s ({fanout['received']:,} in {fanout['window_s']:.1f} s), "
        f"statuses {fanout['statuses']}, missing {fanout['missing']}")

    requests = signed_requests(prepared["app"], prepared["secret"])
    results["ceiling"] = ceiling(base, requests, SETTINGS["consumer_workers"])
    log(f"webhooks: client ceiling {results['ceiling']['per_s']:.0f} POSTs/s "
        f"({results['ceiling']['received']:,} in {results['ceiling']['window_s']:.1f} s)")
    results["load"]["after"] = loadavg()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description="Webhook fan-out benchmark (SPEC §12)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as one JSON line last")
    as_json = parser.parse_args().json
    LOGS.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    run = Run()
    try:
        results = measure(run)
    except KeyboardInterrupt:
        log("webhooks: interrupted; cleaning up")
        return 130
    except (HarnessError, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        log(f"webhooks: failed: {error}")
        return 2
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):  # bench/run stops this process on Ctrl-C: let it clean up
            signal.signal(sig, signal.SIG_IGN)
        run.cleanup()
    table, all_met = report({"webhooks": results})
    print(json.dumps(results) if as_json else "\n" + table, end="\n" if as_json else "")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
