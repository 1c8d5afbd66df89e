"""Complete one-time checkouts through the widget API (SPEC §6.2) as fast as they go, for
`bench/run`: each simulated shopper loops over

    GET   /api/widget/pages/<store>/<page>         open a session
    PATCH /api/widget/sessions/<id>                email, name, both variants, the 5 answers
    POST  /api/widget/checkout                     pm_card_visa (with an Idempotency-Key)
    GET   /api/widget/sessions/<id>/status         until "completed" (polled every 50 ms, ≤ 10 s)

Only checkouts that end "completed" within the measuring window count; anything else (a
non-2xx answer, a decline, a timeout, a connection error) is an error and is reported.
Bounded: a warm-up, then a fixed window, then in-flight checkouts get at most 15 s to finish.
Prints `window start` and `window end` as the measuring window opens and closes (bench/run reads
the servers' CPU from /proc then), and one JSON object last. Only talks to the base URL it is
given (127.0.0.1 in bench/run).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict

import aiohttp

POLL_EVERY = 0.05
POLL_FOR = 10.0


class CheckoutError(Exception):
    pass


class Stats:
    def __init__(self) -> None:
        self.completed: list[float] = []  # monotonic completion times
        self.errors: Counter[str] = Counter()
        self.error_samples: list[str] = []
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.polls = 0

    def error(self, text: str) -> None:
        kind = text.split(":", 1)[0]
        self.errors[kind] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])


async def call(http: aiohttp.ClientSession, stats: Stats, step: str, method: str, url: str, **kwargs) -> dict:
    started = time.monotonic()
    async with http.request(method, url, **kwargs) as response:
        body = await response.read()
        stats.latency[step].append(time.monotonic() - started)
        if response.status != 200:
            raise CheckoutError(f"{step} HTTP {response.status}: {body[:200]!r}")
        return json.loads(body)


async def one_checkout(http: aiohttp.ClientSession, base: str, shop: dict, stats: Stats) -> None:
    opened = await call(http, stats, "open", "GET", f"{base}/api/widget/pages/{shop['store']}/{shop['page']}")
    session_id = opened["sessionId"]
    patched = await call(http, stats, "patch", "PATCH", f"{base}/api/widget/sessions/{session_id}", json={
        "email": f"shopper-{uuid.uuid4().hex[:12]}@example.com", "name": "Sam Shopper",
        "variantOptions": shop["variantOptions"], "customFields": shop["customFields"],
    })
    if patched.get("status") != "open":
        raise CheckoutError(f"patch status {patched.get('status')!r}")
    paid = await call(http, stats, "checkout", "POST", f"{base}/api/widget/checkout",
                      json={"sessionId": session_id, "paymentMethod": "pm_card_visa"},
                      headers={"Idempotency-Key": uuid.uuid4().hex})
    if "error" in paid or paid.get("status") not in ("completed", "processing"):
        raise CheckoutError(f"checkout answered {json.dumps(paid)[:200]}")
    deadline = time.monotonic() + POLL_FOR
    while True:
        status = await call(http, stats, "status", "GET", f"{base}/api/widget/sessions/{session_id}/status")
        stats.polls += 1
        if status.get("status") == "completed" and status.get("paymentId"):
            return
        if status.get("status") not in ("processing", "completed"):
            raise CheckoutError(f"status {status.get('status')!r}")
        if time.monotonic() > deadline:
            raise CheckoutError(f"timeout: still {status.get('status')!r} after {POLL_FOR} s")
        await asyncio.sleep(POLL_EVERY)


async def shopper(http, base, shop, stats, stop_starting: float) -> None:
    while time.monotonic() < stop_starting:
        try:
            await one_checkout(http, base, shop, stats)
            stats.completed.append(time.monotonic())
        except CheckoutError as error:
            stats.error(str(error))
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError) as error:
            stats.error(f"{type(error).__name__}: {error}")


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def mark(moment: float, text: str) -> None:
    """Print `text` at `moment` (monotonic), at once: whoever reads this process's output times
    its own readings by these lines."""
    await asyncio.sleep(max(0.0, moment - time.monotonic()))
    print(text, flush=True)


async def run(base: str, shop: dict, concurrency: int, warmup: float, duration: float) -> dict:
    stats = Stats()
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        began = time.monotonic()
        window_start, window_end = began + warmup, began + warmup + duration
        marks = [asyncio.create_task(mark(window_start, "window start")), asyncio.create_task(mark(window_end, "window end"))]
        tasks = [asyncio.create_task(shopper(http, base, shop, stats, window_end)) for _ in range(concurrency)]
        _, pending = await asyncio.wait(tasks, timeout=warmup + duration + 15)
        await asyncio.gather(*marks)
        for task in pending:
            task.cancel()
            stats.error("unfinished: a checkout still running 15 s after the window")
    in_window = sum(1 for moment in stats.completed if window_start <= moment < window_end)
    return {
        "concurrency": concurrency, "window_s": duration, "warmup_s": warmup,
        "completed_in_window": in_window, "checkouts_per_s": in_window / duration,
        "completed_total": len(stats.completed), "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors), "error_samples": stats.error_samples, "status_polls": stats.polls,
        "latency_ms": {step: {"p50": round(percentile(v, 0.5) * 1000, 1), "p99": round(percentile(v, 0.99) * 1000, 1),
                              "n": len(v)} for step, v in stats.latency.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8101")
    parser.add_argument("--shop", required=True, help="the JSON line bench/seed.py printed")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--duration", type=float, default=20)
    args = parser.parse_args()
    if not args.base.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("the load generator only talks to loopback")
    result = asyncio.run(run(args.base.rstrip("/"), json.loads(args.shop), args.concurrency, args.warmup, args.duration))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
