"""localstripe (a stateful fake Stripe server from PyPI) on 127.0.0.1 for the Stripe provider's tests.

One server per test session (per xdist worker), on a free loopback port, stopped at the end.
It is localstripe's own aiohttp app, started by a two-line launcher rather than the
`localstripe` command because that command listens on every interface (`::`) and pickles its
whole store to the shared /tmp/localstripe.pickle after each write: two workers, or another
project on this machine, would read each other's objects. Nothing here reaches the internet."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
import stripe

#: A key localstripe accepts (any `sk_…`); it checks no more, as Stripe's test mode would.
SECRET_KEY = "sk_test_checkie_localstripe"
#: Seconds localstripe may take to listen, and a webhook to arrive (it waits 1 s before sending).
START_TIMEOUT = 15.0
DELIVERY_TIMEOUT = 10.0

_LAUNCHER = """
import sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
resources.Store.dump_to_disk = lambda self: None
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


@dataclass(frozen=True)
class LocalStripe:
    """A running localstripe: `api_base` for the SDK, `configure_webhook` to send its events somewhere."""

    api_base: str

    def configure_webhook(self, webhook_id: str, *, url: str, secret: str, events: list[str]) -> None:
        """Register (or replace) a webhook endpoint, as the Stripe dashboard would (`/_config/webhooks/<id>`)."""
        form = [("url", url), ("secret", secret)] + [("events[]", event) for event in events]
        response = requests.post(f"{self.api_base}/_config/webhooks/{webhook_id}", data=form, timeout=5)
        response.raise_for_status()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int) -> None:
    """Poll the port until localstripe accepts a connection; fail at once if it exited."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            pass
        try:  # the poll interval, which also notices a server that died on start
            code = process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        errors = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"localstripe exited with status {code} before listening:\n{errors}")
    raise RuntimeError(f"localstripe did not listen on 127.0.0.1:{port} within {START_TIMEOUT} s")


@pytest.fixture(scope="session")
def localstripe():
    """The session's localstripe; torn down (terminated, then killed if it hangs) at the end."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_until_listening(process, port)
        yield LocalStripe(api_base=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


class WebhookInbox:
    """Where localstripe posts its events (an http.server thread on 127.0.0.1, answering 200):
    `wait_for(predicate)` blocks until a delivery matches, for at most DELIVERY_TIMEOUT."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/webhooks/stripe"

    def start(self) -> WebhookInbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, matches) -> Delivery:
        with self._arrived:
            found = self._arrived.wait_for(lambda: next((d for d in self.deliveries if matches(d)), None),
                                           timeout=DELIVERY_TIMEOUT)
        if found is None:
            raise AssertionError(f"no matching webhook within {DELIVERY_TIMEOUT} s; got {len(self.deliveries)}")
        return found

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with inbox._arrived:
                    inbox.deliveries.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
                    inbox._arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:  # quiet: pytest shows what matters
                pass

        return Handler


class ReplayingIdempotencyKeys(stripe.HTTPClient):
    """Stripe's idempotency in front of localstripe, which has none: a POST whose
    `Idempotency-Key` was seen before gets the first answer again and never reaches the server,
    as Stripe documents (for 24 hours). `forwarded` counts the requests that did reach it."""

    name = "replaying-idempotency-keys"

    def __init__(self) -> None:
        super().__init__()
        self._inner = stripe.RequestsClient(timeout=10)
        self._answers: dict[str, tuple] = {}
        self.forwarded = 0

    def request(self, method, url, headers, post_data=None):
        key = (headers or {}).get("Idempotency-Key") if method == "post" else None
        if key in self._answers:
            return self._answers[key]
        self.forwarded += 1
        answer = self._inner.request(method, url, headers, post_data)
        if key:
            self._answers[key] = answer
        return answer

    def close(self) -> None:
        self._inner.close()


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    form: dict[str, list[str]]


class RecordedStripe(stripe.HTTPClient):
    """Answers each request with the next recorded Stripe response (status, JSON body) and keeps
    what was sent, for what localstripe does not do as Stripe does (see the report in the tests)."""

    name = "recorded-stripe"

    def __init__(self, *answers: tuple[int, dict]) -> None:
        super().__init__()
        self._answers = list(answers)
        self.sent: list[SentRequest] = []

    def request(self, method, url, headers, post_data=None):
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        self.sent.append(SentRequest(method, url, dict(headers or {}), form))
        status, body = self._answers.pop(0)
        return json.dumps(body), status, {"Request-Id": "req_recorded"}

    def close(self) -> None:
        pass


#: The store's keys for localstripe (it accepts any `pk_`/`sk_` key) and the secret its webhooks sign with.
PUBLISHABLE_KEY = "pk_test_checkie_localstripe"
STORE_WEBHOOK_SECRET = "whsec_checkie_localstripe_store"


@pytest.fixture
def stripe_store(app, db, store, localstripe, monkeypatch):
    """`store` taking payments with Stripe — its own test keys, saved through the payment
    settings as a merchant would — against localstripe: the SDK's API base and Stripe.js's URL
    point at it for this test only."""
    from checkie.stores.payment_settings import update_payment_settings

    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe.api_base)
    monkeypatch.setitem(app.config, "STRIPE_JS_URL", f"{localstripe.api_base}/js.stripe.com/v3/")
    update_payment_settings(db, store, provider="stripe", publishable_key=PUBLISHABLE_KEY, secret_key=SECRET_KEY,
                            webhook_secret=STORE_WEBHOOK_SECRET)
    db.commit()
    return store
