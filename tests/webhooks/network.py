"""Network doubles for the webhook tests: a stubbed resolver, a recorder of every connection
urllib3 opens, and a local receiver on 127.0.0.1. Nothing here reaches the internet."""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.util.connection

#: Names the stubbed resolver knows; each look-up of a name takes the next answer in its list
#: (the last one repeats), so a name can answer public first and private afterwards.
Answers = dict[str, list[list[str]]]


class StubResolver:
    def __init__(self, answers: Answers):
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - getaddrinfo's names
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (stubbed)")
        rounds = self.answers[host]
        addresses = rounds[min(self.lookups.count(host), len(rounds)) - 1]
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]


def stub_dns(monkeypatch: pytest.MonkeyPatch, answers: Answers) -> StubResolver:
    resolver = StubResolver(answers)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


def record_connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address urllib3 (or socket.create_connection) tries; only loopback really connects,
    anything else is refused on the spot, so a test can never reach the internet."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        attempts.append((address[0], address[1]))
        if address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise ConnectionRefusedError("the tests connect to loopback only")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded)
    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


@contextmanager
def local_receiver(respond: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[tuple[str, list[dict]]]:
    """An HTTP server on 127.0.0.1 in a thread; `respond(handler)` answers each POST.
    Yields the base URL and the requests it received (path, headers, body)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
            respond(self)

        do_GET = do_POST  # noqa: N815

        def log_message(self, format, *args):  # noqa: A002 - silence the per-request log
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Callable[[BaseHTTPRequestHandler], None]:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond
