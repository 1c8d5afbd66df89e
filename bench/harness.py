"""The performance harness of SPEC §12 (`make bench`, or `bench/run`). See bench/README.md.

One run, on loopback only:
  1. a throwaway PostgreSQL database (migrated) and a unique Huey queue / rate-limit prefix in Redis;
  2. the seed (bench/seed.py): a store and a published page with 2 variants and 5 custom fields;
  3. Checkie under gunicorn in the production profile, a Huey consumer, and the bare Flask + Jinja
     page (bench/hello_app.py) under the very same gunicorn settings on another port;
  4. wrk at 32 connections against the hello page and the hosted checkout page, interleaved
     (hello, checkout, hello, checkout …), then against the page's own URL (informational);
  5. complete one-time checkouts per second through the widget API (bench/checkout_load.py);
  6. the page weight: the hosted checkout HTML plus the CSS/JS it loads, gzip;
  7. the dashboard at 10,000 and 1,000,000 payments (bench/seed_history.py, bench/dashboard_load.py);
  8. with all that stopped, the webhook fan-out (bench/webhook_fanout.py: a database, queue,
     consumer and receiver of its own). `bench/run webhooks` runs this step alone.
It prints a table of the budgets (PASS/MISS), writes it to build/bench.txt (the raw figures to
build/bench.json, server logs to build/bench/), and removes every process, the database and its
Redis keys on the way out, Ctrl-C and failures included. Exit status: 0 all budgets met, 1 a
budget missed, 2 the harness itself failed.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
BUILD = ROOT / "build"
LOGS = BUILD / "bench"

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


SETTINGS = {
    "workers": _int("BENCH_WORKERS", 4),           # gunicorn worker processes (both apps)
    "threads": _int("BENCH_THREADS", 4),           # gthread threads per worker (both apps)
    "connections": _int("BENCH_CONNECTIONS", 32),  # wrk -c
    "wrk_threads": _int("BENCH_WRK_THREADS", 2),   # wrk -t
    "seconds": _int("BENCH_SECONDS", 10),          # each wrk measurement
    "rounds": _int("BENCH_ROUNDS", 2),             # hello/checkout pairs, interleaved
    "shoppers": _int("BENCH_SHOPPERS", 32),        # concurrent checkouts
    "checkout_seconds": _int("BENCH_CHECKOUT_SECONDS", 20),
    "consumer_workers": _int("BENCH_CONSUMER_WORKERS", 4),
    "history_small": _int("BENCH_HISTORY_SMALL", 10_000),      # payments of the small store
    "history_large": _int("BENCH_HISTORY_LARGE", 1_000_000),   # payments of the large store
    "dashboard_requests": _int("BENCH_DASHBOARD_REQUESTS", 200),  # timed GETs per store and page
    "profile": os.environ.get("BENCH_PROFILE", "") not in ("", "0"),  # py-spy after the measurements
}

BUDGETS = {"ratio": 0.5, "p99_ms": 25.0, "checkouts_per_s": 150.0, "page_kb": 60.0,
           "dashboard_p95_ms": 50.0, "dashboard_growth": 1.5, "webhooks_per_s": 500.0}


class HarnessError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- processes and cleanup


class Run:
    """Everything this run started or created, so that `cleanup` can undo it all."""

    def __init__(self) -> None:
        self.token = "bench-" + secrets.token_hex(4)
        self.database = "checkie_" + self.token.replace("-", "_")
        self.database_created = False
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        # A process group of its own: stopping it stops the gunicorn master and its workers.
        with open(LOGS / f"{name}.log", "wb") as out:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes.append((name, process))
        return process

    def cleanup(self) -> None:
        for name, process in reversed(self.processes):
            _stop(name, process)
        self.processes.clear()
        _drop_redis_keys(self.token)
        if self.database_created:
            try:
                _admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                log(f"dropped database {self.database}")
                self.database_created = False
            except Exception as error:  # noqa: BLE001 - report, keep cleaning
                log(f"could not drop database {self.database}: {error}")


def _stop(name: str, process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)  # the group this run created (start_new_session), nothing else
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
    log(f"{name} (pid {process.pid}) did not stop")


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def _drop_redis_keys(token: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
        keys = list(client.scan_iter(match=f"*{token}*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception as error:  # noqa: BLE001
        log(f"could not remove the Redis keys of {token}: {error}")


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


# ---------------------------------------------------------------- preparing


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise HarnessError("wrk is missing: apt-get install -y wrk")
    log("installing wrk (apt-get install -y wrk)")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def app_environment(run: Run, port: int) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CHECKIE_", "HUEY_", "RATELIMIT_", "GUNICORN_", "STRIPE_", "SMTP_"))
           and key not in {"DATABASE_URL", "REDIS_URL", "APP_URL", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR",
                           "PAYMENT_PROVIDER", "PROXY_HOPS"}}
    env.update({
        "CHECKIE_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "JWT_SECRET": secrets.token_hex(32),
        "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
                        + "/" + run.database,
        "REDIS_URL": REDIS_URL,
        "APP_URL": f"http://127.0.0.1:{port}",  # the test provider's events are posted here
        "PAYMENT_PROVIDER": "test",
        # Production runs the test provider only with a secret of its own.
        "TEST_PROVIDER_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
        "HUEY_NAME": run.token,
        "RATELIMIT_KEY_PREFIX": run.token,
        # The load comes from one IP; the real limit (30/minute) would refuse almost all of it.
        "WIDGET_RATE_LIMIT": "1000000/minute",
        "WEB_CONCURRENCY": str(SETTINGS["workers"]),
        "GUNICORN_THREADS": str(SETTINGS["threads"]),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def wait_for(url: str, process: subprocess.Popen, name: str, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(f"{name} exited with {process.returncode}; see {LOGS / (name + '.log')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise HarnessError(f"{name} did not answer {url} within {seconds:.0f} s; see {LOGS / (name + '.log')}")


def open_checkout(base: str, shop: dict) -> str:
    """The URL of a session's hosted checkout page, `/c/s/<id>`, for a session opened through the
    widget API (opening the hosted page itself writes no session)."""
    url = f"{base}/api/widget/pages/{shop['store']}/{shop['page']}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return f"{base}/c/s/{json.loads(answer.read())['sessionId']}"


def page_weight(url: str) -> dict:
    """The hosted checkout HTML and every CSS/JS file it loads from /static, each gzipped."""
    base = url.split("/c/", 1)[0]
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read()
    parts = {"html": len(gzip.compress(html))}
    for asset in re.findall(rb'(?:href|src)="(/static/[^"?]+\.(?:css|js))(?:\?[^"]*)?"', html):
        with urllib.request.urlopen(base + asset.decode(), timeout=10) as response:
            parts[asset.decode()] = len(gzip.compress(response.read()))
    return {"bytes": sum(parts.values()), "parts": parts, "html_bytes_raw": len(html)}


# ---------------------------------------------------------------- measuring

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise HarnessError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(binary: str, url: str, seconds: int, name: str) -> dict:
    argv = [binary, "-t", str(SETTINGS["wrk_threads"]), "-c", str(SETTINGS["connections"]), "-d", f"{seconds}s",
            "--latency", "--timeout", "5s", url]
    result = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=seconds + 30)
    output = result.stdout
    with open(LOGS / "wrk.log", "a") as out:
        out.write(f"### {name}: {' '.join(argv)}\n{output}{result.stderr}\n")
    if result.returncode != 0:
        raise HarnessError(f"wrk failed on {url}: {result.stderr.strip()}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and p50 and p99):
        raise HarnessError(f"cannot read wrk's output for {url}:\n{output}")
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(rps.group(1)), "p50_ms": _ms(p50.group(1)), "p99_ms": _ms(p99.group(1)),
        "requests": int(total.group(1)) if total else 0,
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
                  + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def combine(rounds: list[dict]) -> dict:
    """Rounds of one target: mean requests/s and p50, the worst p99, all errors, the mean CPU
    ms per request (rounds that measured it)."""
    measured = [r["cpu_ms_per_request"] for r in rounds if "cpu_ms_per_request" in r]
    return {
        "rps": sum(r["rps"] for r in rounds) / len(rounds),
        "cpu_ms_per_request": {name: sum(m[name] for m in measured) / len(measured) for name in measured[0]}
                              if measured else {},
        "p50_ms": sum(r["p50_ms"] for r in rounds) / len(rounds),
        "p99_ms": max(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "rounds": rounds,
    }


def queue_backlog(run: Run) -> int:
    from huey import RedisHuey

    return RedisHuey(run.token, url=REDIS_URL).pending_count()


def drain(run: Run, seconds: float = 30) -> tuple[int, float]:
    """Wait (bounded) for the consumer to empty the queue: (backlog at the start, seconds it took)."""
    started, backlog = time.monotonic(), queue_backlog(run)
    while queue_backlog(run) and time.monotonic() - started < seconds:
        time.sleep(0.25)
    return backlog, time.monotonic() - started


def database_counts(env: dict) -> dict:
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, connect_timeout=5) as connection:
        def count(sql: str) -> int:
            return connection.execute(sql).fetchone()[0]

        return {
            "completed_sessions": count("SELECT count(*) FROM checkout_sessions WHERE state = 'completed'"),
            "payments": count("SELECT count(*) FROM payments"),
            "provider_events": count("SELECT count(*) FROM provider_events"),
        }


# ---------------------------------------------------------------- CPU from /proc
# Shared with bench/webhook_fanout.py (its cores used while delivering).


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(group: int) -> float:
    """The CPU of every live process of a process group (a gunicorn master and its workers, a
    consumer with process workers), with that of the children they have reaped: gunicorn
    replaces a worker after `max_requests`, and the old one's CPU then moves to the master's
    cutime/cstime instead of vanishing from the difference of two readings."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # utime, stime, cutime, cstime
                total += sum(int(n) for n in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core, from /proc/stat."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    hertz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hertz, sum(ticks) / hertz  # less idle and iowait


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL server processes serving `database` (every client's connections)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [pid for (pid,) in rows]


def backend_cpu_seconds(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `database`, by pid."""
    backends = {}
    for pid in backend_pids(database):
        try:
            backends[pid] = cpu_seconds(pid)
        except OSError:  # gone meanwhile
            continue
    return backends


def backends_cpu_used(first: dict[int, float], last: dict[int, float]) -> float:
    """CPU seconds the backends used between two readings; one born meanwhile counts from zero
    (one that ended meanwhile is lost: the apps keep pooled connections, so that is rare)."""
    return sum(cpu - first.get(pid, 0.0) for pid, cpu in last.items())


def cpu_snapshot(groups: dict[str, int], pids: dict[str, int], database: str) -> dict:
    """CPU seconds so far of each named process group and process, of the database's backends
    and of the machine, and when (monotonic) they were read."""
    processes = {name: group_cpu_seconds(group) for name, group in groups.items()}
    processes.update({name: cpu_seconds(pid) for name, pid in pids.items()})
    backends = backend_cpu_seconds(database)
    busy, total = machine_cpu()
    return {"at": time.monotonic(), "processes": processes, "backends": backends,
            "machine_busy": busy, "machine_total": total}


def cpu_per_request(first: dict, last: dict, requests: int) -> dict[str, float]:
    """CPU ms per request of a wrk round: the server's process group (master and workers) and
    the bench database's backends (nothing for the hello page, which has none)."""
    used = cpu_per_checkout(first, last, requests)["processes"]
    return {"server": used["server"]["ms_per_checkout"] or 0.0, "postgres": used["postgres"]["ms_per_checkout"] or 0.0}


def cpu_per_checkout(first: dict, last: dict, checkouts: int) -> dict:
    """Between two snapshots: each party's CPU seconds, cores (CPU ÷ wall) and CPU ms per
    checkout (CPU seconds × 1000 ÷ the checkouts completed meanwhile; None without any).
    `postgres` is the database's backends; the machine's busy fraction includes other load."""
    window = last["at"] - first["at"]
    used = {name: last["processes"][name] - first["processes"][name] for name in first["processes"]}
    used["postgres"] = backends_cpu_used(first["backends"], last["backends"])
    total = last["machine_total"] - first["machine_total"]
    return {
        "window_s": window, "checkouts": checkouts,
        "machine_busy": (last["machine_busy"] - first["machine_busy"]) / total if total else 0.0,
        "processes": {name: {"cpu_s": seconds, "cores": seconds / window if window > 0 else 0.0,
                             "ms_per_checkout": 1000 * seconds / checkouts if checkouts else None}
                      for name, seconds in used.items()},
    }


# ---------------------------------------------------------------- report


def report(results: dict) -> tuple[str, bool]:
    """The table: the page, checkout and dashboard budgets (unless only the webhooks ran), then
    the webhook fan-out's; PASS/MISS each, the details below."""
    rows, details = page_budgets(results) if "hello" in results else ([], [])
    if "webhooks" in results:
        rows.append(webhook_budget(results["webhooks"]))
        details += webhook_details(results["webhooks"])
    extra = checkout_cpu_rows(results["checkout_cpu"]) if "checkout_cpu" in results else []
    width = max([len(r[0]) for r in rows] + [len(r[0]) for r in extra])
    lines = [
        f"Checkie benchmarks (SPEC §12) — {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} CPUs",
        (f"gunicorn gthread, {SETTINGS['workers']} workers × {SETTINGS['threads']} threads, both apps; "
         f"wrk -t{SETTINGS['wrk_threads']} -c{SETTINGS['connections']}, {SETTINGS['rounds']} × "
         f"{SETTINGS['seconds']} s per page, interleaved; " if "hello" in results else "")
        + f"Huey consumer {SETTINGS['consumer_workers']} threads",
        "",
        f"{'budget'.ljust(width)}  {'target':<16} {'measured':<20} result",
    ]
    lines += [f"{name.ljust(width)}  {target:<16} {measured:<20} {'PASS' if ok else 'MISS'}"
              for name, target, measured, ok in rows]
    if extra:
        lines += ["", f"{'also reported, not budgets'.ljust(width)}  {'per checkout':<16} cores (CPU ÷ wall)"]
        lines += [f"{name.ljust(width)}  {per_checkout:<16} {cores}" for name, per_checkout, cores in extra]
    lines += ["", "details", *details]
    return "\n".join(lines) + "\n", all(row[3] for row in rows)


def checkout_cpu_rows(cpu: dict) -> list[tuple[str, str, str]]:
    """CPU ms per checkout and cores used, per party, over the checkouts' measuring window."""
    labels = {
        "web": f"CPU per checkout: web (gunicorn master + {SETTINGS['workers']} workers)",
        "worker": f"CPU per checkout: worker (Huey consumer, {SETTINGS['consumer_workers']} threads)",
        "postgres": "CPU per checkout: PostgreSQL backends of the bench db",
        "load_generator": "CPU per checkout: load generator (checkout_load.py)",
    }
    rows = []
    for name, label in labels.items():
        figures = cpu["processes"][name]
        per_checkout = "n/a" if figures["ms_per_checkout"] is None else f"{figures['ms_per_checkout']:.2f} ms"
        rows.append((label, per_checkout, f"{figures['cores']:.2f}"))
    return rows


def page_budgets(results: dict) -> tuple[list[tuple[str, str, str, bool]], list[str]]:
    hello, page, opening = results["hello"], results["checkout_page"], results["open_session"]
    rows = page_rows(hello, page)
    results["ratio"] = page["rps"] / hello["rps"] if hello["rps"] else 0.0
    pages = [rate_line("hello (Flask + Jinja)", hello), rate_line("checkout page GET /c/s/<id>", page),
             rate_line("page GET /c/<store>/<page>", opening) + "  (counts a view; informational)"]
    if "checkouts" not in results:  # bench/run page
        return rows, pages
    checkouts, weight = results["checkouts"], results["page_weight"]
    kb = weight["bytes"] / 1024
    rows += [
        ("one-time checkouts/s (widget API, test provider)", f"≥ {BUDGETS['checkouts_per_s']:.0f}, 0 errors",
         f"{checkouts['checkouts_per_s']:.1f}, {checkouts['errors']} errors",
         checkouts["checkouts_per_s"] >= BUDGETS["checkouts_per_s"] and checkouts["errors"] == 0),
        ("checkout page + CSS/JS, gzip", f"≤ {BUDGETS['page_kb']:.0f} KB", f"{kb:.1f} KB", kb <= BUDGETS["page_kb"]),
    ]
    dashboard = results["dashboard"]
    large, small = f"{SETTINGS['history_large']:,}", f"{SETTINGS['history_small']:,}"
    for screen, title in (("payments", "payments list"), ("balance", "balance")):
        big, little = dashboard["large"][screen]["p95_ms"], dashboard["small"][screen]["p95_ms"]
        growth = big / little if little else float("inf")
        rows += [
            (f"dashboard {title} p95, {large} payments", f"≤ {BUDGETS['dashboard_p95_ms']:.0f} ms",
             f"{big:.1f} ms", big <= BUDGETS["dashboard_p95_ms"]),
            (f"dashboard {title} p95, {large} ÷ {small}", f"≤ {BUDGETS['dashboard_growth']}×",
             f"{growth:.2f}×", growth <= BUDGETS["dashboard_growth"]),
        ]

    steps = ", ".join(f"{step} {v['p50']:.0f}/{v['p99']:.0f}" for step, v in checkouts["latency_ms"].items())
    cpu = results["checkout_cpu"]
    total_cpu = (f"{1000 * sum(f['cpu_s'] for f in cpu['processes'].values()) / cpu['checkouts']:.2f} ms"
                 if cpu["checkouts"] else "n/a")
    lines = [
        *pages,
        (f"  checkouts: {checkouts['completed_in_window']} completed in {checkouts['window_s']:.0f} s by "
         f"{checkouts['concurrency']} shoppers; p50/p99 ms per request: {steps}"),
        (f"  checkout CPU: read from /proc over {cpu['window_s']:.1f} s (the load generator's window), "
         f"{cpu['checkouts']} checkouts; the four together {total_cpu} per checkout; the machine "
         f"{cpu['machine_busy']:.0%} busy ({os.cpu_count()} CPUs, other load included)"),
        (f"  worker: {results['backlog']} queued tasks at the end of the window, drained in "
         f"{results['drain_s']:.1f} s; database: {results['counts']}"),
        f"  page weight: {weight['parts']} (HTML {weight['html_bytes_raw']} bytes raw)",
        "  dashboard, one request at a time (p50/p95/max ms): " + "; ".join(
            f"{label} {screen} {v['p50_ms']:.1f}/{v['p95_ms']:.1f}/{v['max_ms']:.1f}"
            for label, screens in results["dashboard"].items() for screen, v in screens.items()),
        (f"  load average (1/5/15 min): before {results['load']['before']}, after the wrk runs "
         f"{results['load']['after_wrk']}, after the checkouts {results['load']['after_checkouts']}"),
    ]
    if checkouts["errors"]:
        lines.append(f"  checkout errors: {checkouts['error_kinds']} e.g. {checkouts['error_samples']}")
    return rows, lines


def page_rows(hello: dict, page: dict) -> list[tuple[str, str, str, bool]]:
    """The checkout page's two budgets, from the interleaved wrk rounds."""
    ratio = page["rps"] / hello["rps"] if hello["rps"] else 0.0
    return [
        ("checkout page req/s ÷ hello req/s", f"≥ {BUDGETS['ratio']}", f"{ratio:.2f}",
         ratio >= BUDGETS["ratio"] and page["errors"] == 0),
        (f"checkout page p99 at {SETTINGS['connections']} connections", f"≤ {BUDGETS['p99_ms']:.0f} ms",
         f"{page['p99_ms']:.1f} ms", page["p99_ms"] <= BUDGETS["p99_ms"] and page["errors"] == 0),
    ]


def rate_line(label: str, figures: dict) -> str:
    cpu = figures.get("cpu_ms_per_request") or {}
    return (f"  {label:<34} {figures['rps']:8.0f} req/s   p50 {figures['p50_ms']:6.1f} ms   "
            f"p99 {figures['p99_ms']:6.1f} ms   errors {figures['errors']}"
            + (f"   CPU ms/request: server {cpu['server']:.2f}, PostgreSQL {cpu['postgres']:.2f}" if cpu else ""))


def webhook_failures(figures: dict) -> int:
    """Deliveries not `succeeded`, plus event ids the receiver never got."""
    fanout = figures["fanout"]
    return figures["deliveries"] - fanout["statuses"].get("succeeded", 0) + fanout["missing"]


def webhook_budget(figures: dict) -> tuple[str, str, str, bool]:
    fanout, failed = figures["fanout"], webhook_failures(figures)
    return (f"webhook deliveries/s ({figures['deliveries']:,}, local receiver)",
            f"≥ {BUDGETS['webhooks_per_s']:.0f}, 0 failed", f"{fanout['per_s']:.0f}, {failed} failed",
            fanout["per_s"] >= BUDGETS["webhooks_per_s"] and failed == 0)


def webhook_details(figures: dict) -> list[str]:
    fanout, top, cpu = figures["fanout"], figures["ceiling"], figures["fanout"]["cpu"]
    ratio = fanout["per_s"] / top["per_s"] if top["per_s"] else 0.0
    return [
        (f"  webhooks: {fanout['received']:,} received in {fanout['window_s']:.1f} s from a consumer of "
         f"{fanout['workers']} threads = {fanout['per_s']:.0f}/s; rows {fanout['statuses']}, "
         f"{fanout['attempts']:,} attempts, missing ids {fanout['missing']}, duplicates {fanout['duplicates']}; "
         f"POST p50/p99 {fanout['attempt_ms']['p50']:.0f}/{fanout['attempt_ms']['p99']:.0f} ms; consumer CPU "
         f"{1000 * cpu['consumer_cpu_s'] / max(fanout['received'], 1):.2f} ms per delivery"),
        (f"  webhooks, cores used while delivering: consumer {cpu['consumer_cores']:.2f}, its PostgreSQL "
         f"backends {cpu['postgres_cores']:.2f}, receiver {cpu['receiver_cores']:.2f}; the machine "
         f"{cpu['machine_busy']:.0%} busy ({os.cpu_count()} CPUs, other load included)"),
        (f"  webhooks, client ceiling (client.post, {top['workers']} threads, one process): {top['per_s']:.0f} "
         f"POSTs/s ({top['succeeded']:,} 2xx, {1000 * top['cpu_s'] / max(top['received'], 1):.2f} ms CPU each); "
         f"fan-out = {ratio:.2f} × the ceiling"),
    ]


def webhook_fanout() -> dict:
    """bench/webhook_fanout.py in a process of its own (its database, queue, consumer and
    receiver; see there), its log lines passed through, its figures from its last line."""
    process = subprocess.Popen([str(BIN / "python"), "bench/webhook_fanout.py", "--json"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    last = ""
    try:
        assert process.stdout is not None
        for text in process.stdout:
            if text.startswith("{"):
                last = text
            else:
                print(text, end="", flush=True)
        process.wait(60)
    except BaseException:
        process.terminate()  # it cleans up after itself on SIGTERM
        process.wait(60)
        raise
    if process.returncode not in (0, 1) or not last:
        raise HarnessError(f"the webhook fan-out benchmark failed (exit status {process.returncode})")
    return json.loads(last)


# ---------------------------------------------------------------- main


def measure(run: Run, only_page: bool = False) -> dict:
    binary = ensure_wrk()
    results: dict = {"settings": SETTINGS, "load": {"before": loadavg()}}
    log(f"load average before the run: {results['load']['before']} ({os.cpu_count()} CPUs)")
    port, hello_port = free_port(), free_port()
    env = app_environment(run, port)

    _admin_sql(f'CREATE DATABASE "{run.database}"')
    run.database_created = True
    log(f"database {run.database}: migrating and seeding")
    with open(LOGS / "migrate.log", "wb") as out:
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       stdout=out, stderr=subprocess.STDOUT)
    seeded = subprocess.run([str(BIN / "python"), "bench/seed.py"], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True,
                            capture_output=True, text=True)
    shop = json.loads(seeded.stdout.strip().splitlines()[-1])

    gunicorn = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")]
    web = run.start("checkie", [*gunicorn, "--bind", f"127.0.0.1:{port}", "wsgi:app"], env)
    hello_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{hello_port}"}
    hello = run.start("hello", [*gunicorn, "--bind", f"127.0.0.1:{hello_port}", "--pythonpath", "bench",
                                "hello_app:app"], hello_env)
    worker = run.start("worker", [str(BIN / "huey_consumer"), "checkie.worker.huey", "--workers",
                                  str(SETTINGS["consumer_workers"]), "--worker-type", "thread"], env)
    base, hello_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hello_port}/"
    wait_for(base + "/readyz", web, "checkie")
    wait_for(hello_url, hello, "hello")

    page_url = open_checkout(base, shop)
    results["page_weight"] = page_weight(page_url)
    log(f"serving: checkie {base}, hello {hello_url}; checkout page {page_url}")

    for url, name in ((hello_url, "warm-up hello"), (page_url, "warm-up checkout page")):
        wrk(binary, url, 2, name)
    rounds: dict[str, list] = {"hello": [], "checkout_page": []}
    servers = {"hello": hello.pid, "checkout_page": web.pid}
    for number in range(1, SETTINGS["rounds"] + 1):
        for key, url in (("hello", hello_url), ("checkout_page", page_url)):
            before = cpu_snapshot({"server": servers[key]}, {}, run.database)
            figures = wrk(binary, url, SETTINGS["seconds"], f"{key} round {number}")
            figures["cpu_ms_per_request"] = cpu_per_request(before, cpu_snapshot({"server": servers[key]}, {}, run.database),
                                                            figures["requests"])
            log(f"{key} round {number}: {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                f"p99 {figures['p99_ms']:.1f} ms, errors {figures['errors']}; CPU ms per request: "
                + ", ".join(f"{name} {ms:.2f}" for name, ms in figures["cpu_ms_per_request"].items()))
            rounds[key].append(figures)
    results["hello"], results["checkout_page"] = combine(rounds["hello"]), combine(rounds["checkout_page"])
    opening = wrk(binary, f"{base}/c/{shop['store']}/{shop['page']}", max(SETTINGS["seconds"] // 2, 3), "page view")
    results["open_session"] = combine([opening])
    log(f"page view: {opening['rps']:.0f} req/s, p99 {opening['p99_ms']:.1f} ms")
    results["load"]["after_wrk"] = loadavg()
    if only_page:
        return results
    drain(run)

    log(f"checkouts: {SETTINGS['shoppers']} shoppers for {SETTINGS['checkout_seconds']} s (after a 3 s warm-up)")
    snapshots: dict[str, dict] = {}

    def read_cpu(mark: str, load_pid: int) -> None:
        # The web server's and the consumer's process groups (start_new_session: group = pid).
        snapshots[mark] = cpu_snapshot({"web": web.pid, "worker": worker.pid}, {"load_generator": load_pid},
                                       run.database)

    status, last = checkout_load(base, shop, SETTINGS["checkout_seconds"], on_mark=read_cpu)
    if status != 0 or not last.startswith("{"):
        raise HarnessError(f"the checkout load generator failed (exit status {status}):\n"
                           f"{(LOGS / 'checkout-load.log').read_text()[-3000:]}")
    if set(snapshots) != {"window start", "window end"}:
        raise HarnessError(f"the checkout load generator marked {sorted(snapshots)}, not its window's start and end")
    results["checkouts"] = json.loads(last)
    results["checkout_cpu"] = cpu_per_checkout(snapshots["window start"], snapshots["window end"],
                                               results["checkouts"]["completed_in_window"])
    results["load"]["after_checkouts"] = loadavg()
    results["backlog"], results["drain_s"] = drain(run)
    results["counts"] = database_counts(env)
    log(f"checkouts: {results['checkouts']['checkouts_per_s']:.1f}/s, errors {results['checkouts']['errors']}")
    results["dashboard"] = dashboard_at_scale(env, base, shop)
    if SETTINGS["profile"]:
        profile(run, binary, web, page_url, base, shop)
    return results


def dashboard_at_scale(env: dict, base: str, shop: dict) -> dict:
    """Two stores of the bench merchant with a history of payments (bench/seed_history.py), then
    their payments list and balance page timed one request at a time (bench/dashboard_load.py)."""
    stores = {}
    for label in ("small", "large"):
        count = SETTINGS[f"history_{label}"]
        started = time.monotonic()
        seeded = subprocess.run(
            [str(BIN / "python"), "bench/seed_history.py", "--owner", shop["owner"]["email"], "--payments", str(count)],
            cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True, capture_output=True, text=True,
        )
        stores[label] = json.loads(seeded.stdout.strip().splitlines()[-1])["storeId"]
        log(f"dashboard: store {stores[label]} with {count:,} payments seeded in {time.monotonic() - started:.0f} s")
    timed = subprocess.run(
        [str(BIN / "python"), "bench/dashboard_load.py", "--base", base, "--email", shop["owner"]["email"],
         "--password", shop["owner"]["password"], "--requests", str(SETTINGS["dashboard_requests"]),
         *[f"--store={label}={store_id}" for label, store_id in stores.items()]],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    if timed.returncode != 0:
        raise HarnessError(f"the dashboard load generator failed:\n{timed.stdout}{timed.stderr}")
    figures = json.loads(timed.stdout.strip().splitlines()[-1])
    for page in ("payments", "balance"):
        log(f"dashboard {page}: p95 {figures['small'][page]['p95_ms']:.1f} ms with "
            f"{SETTINGS['history_small']:,} payments, {figures['large'][page]['p95_ms']:.1f} ms with "
            f"{SETTINGS['history_large']:,}")
    return figures


def checkout_load(base: str, shop: dict, seconds: int, warmup: int = 3,
                  on_mark: Callable[[str, int], None] | None = None) -> tuple[int, str]:
    """bench/checkout_load.py: (its exit status, its last line of output: the JSON figures). Its
    `window start` / `window end` lines go to `on_mark(line, its pid)` as they come, so the CPU
    read then covers its measuring window; its stderr goes to build/bench/checkout-load.log."""
    argv = [str(BIN / "python"), "bench/checkout_load.py", "--base", base, "--shop", json.dumps(shop),
            "--concurrency", str(SETTINGS["shoppers"]), "--warmup", str(warmup), "--duration", str(seconds)]
    with open(LOGS / "checkout-load.log", "ab") as errors:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
    timer = threading.Timer(seconds + warmup + 60, process.kill)  # it bounds itself; this is the backstop
    timer.start()
    last = ""
    try:
        assert process.stdout is not None
        for text in process.stdout:
            text = text.strip()
            if text in ("window start", "window end"):
                if on_mark:
                    on_mark(text, process.pid)
            elif text:
                last = text
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, last


def profile(run: Run, binary: str, web: subprocess.Popen, page_url: str, base: str, shop: dict) -> None:
    """BENCH_PROFILE=1: after the measurements (which it must not slow down), sample every
    gunicorn worker with py-spy (raw collapsed stacks, idle threads included) while wrk loads the
    checkout page, then while shoppers run checkouts; bench/profile_summary.py reads them."""
    py_spy = shutil.which("py-spy", path=f"{BIN}:{os.environ.get('PATH', '')}")
    if not py_spy:
        log("BENCH_PROFILE: py-spy is not installed (.venv/bin/pip install py-spy); skipped")
        return
    seconds = 8
    for name, load in (("page", lambda: wrk(binary, page_url, seconds, "profiled checkout page")),
                       ("checkouts", lambda: checkout_load(base, shop, seconds, warmup=0))):
        output = LOGS / f"profile-{name}.txt"
        spy = run.start(f"py-spy-{name}", [py_spy, "record", "--pid", str(web.pid), "--subprocesses", "--idle",
                                           "--rate", "250", "--duration", str(seconds + 1), "--format", "raw",
                                           "--output", str(output), "--nonblocking"], os.environ.copy())
        time.sleep(1)
        load()
        spy.wait(30)
        log(f"profile of the {name}: {output} (summary: .venv/bin/python bench/profile_summary.py {output})")


def main() -> int:
    if not (BIN / "python").exists():
        print("bench: run `make install-dev` first (needs .venv)", file=sys.stderr)
        return 2
    LOGS.mkdir(parents=True, exist_ok=True)
    for stale in LOGS.glob("*.log"):
        stale.unlink()
    signal.signal(signal.SIGTERM, _on_sigterm)
    part = sys.argv[1] if len(sys.argv) == 2 else None
    if sys.argv[2:] or part not in (None, "webhooks", "page"):
        print("usage: bench/run [webhooks|page]", file=sys.stderr)
        return 2
    run = Run()
    try:
        results = {} if part == "webhooks" else measure(run, only_page=part == "page")
        run.cleanup()  # the fan-out has the machine to itself
        if part != "page":
            results["webhooks"] = webhook_fanout()
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    except (HarnessError, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        log(f"failed: {error}")
        if isinstance(error, subprocess.CalledProcessError) and error.stderr:
            print(error.stderr if isinstance(error.stderr, str) else error.stderr.decode(), file=sys.stderr)
        return 2
    finally:
        run.cleanup()
    table, all_met = report(results)
    name = f"bench-{part}" if part else "bench"  # a partial run keeps the full run's table
    BUILD.mkdir(exist_ok=True)
    (BUILD / f"{name}.txt").write_text(table)
    (BUILD / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(table, end="")
    print(f"\n(written to build/{name}.txt; raw figures in build/{name}.json, server logs in build/bench/)")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
