"""The dashboard at scale (SPEC §12): logs in as the bench merchant, then times GET requests of
the payments list and the balance page of each given store, one request at a time, the stores
interleaved so that both see the same machine. Prints p50/p95/max (ms) per store and page as
one JSON line.

    bench/dashboard_load.py --base URL --email E --password P --store small=ID --store large=ID
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import statistics
import time
import urllib.parse
import urllib.request

#: The two screens SPEC §12 budgets, and the store overview (its figures are informational).
PAGES = {"payments": "/dashboard/stores/{id}/payments", "balance": "/dashboard/stores/{id}/balance",
         "overview": "/dashboard/stores/{id}"}


class _LoopbackPolicy(http.cookiejar.DefaultCookiePolicy):
    """Production cookies are Secure (`__Host-` prefixed); the benchmark talks plain HTTP on
    loopback, where a TLS-terminating proxy would otherwise sit, so send them anyway."""

    def return_ok_secure(self, cookie, request):
        return True


def login(base: str, email: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar(policy=_LoopbackPolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form)
    if token is None:
        raise SystemExit("no CSRF token on /login")
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": password}).encode()
    landed = opener.open(base + "/login", data=body, timeout=10)
    if "/login" in landed.geturl():
        raise SystemExit(f"login failed: landed on {landed.geturl()}")
    return opener


def timed_get(opener, url: str) -> float:
    started = time.perf_counter()
    with opener.open(url, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--store", action="append", required=True, help="label=store id")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    opener = login(args.base, args.email, args.password)
    stores = dict(item.split("=", 1) for item in args.store)
    targets = [(label, page, args.base + path.format(id=store_id))
               for label, store_id in stores.items() for page, path in PAGES.items()]
    samples: dict[tuple[str, str], list[float]] = {(label, page): [] for label, page, _ in targets}
    for round_number in range(args.warmup + args.requests):
        for label, page, url in targets:
            elapsed = timed_get(opener, url)
            if round_number >= args.warmup:
                samples[(label, page)].append(elapsed)
    result: dict = {}
    for (label, page), values in samples.items():
        values.sort()
        result.setdefault(label, {})[page] = {
            "p50_ms": statistics.median(values), "p95_ms": values[int(0.95 * (len(values) - 1))],
            "max_ms": values[-1], "requests": len(values),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
