"""A merchant's own web site for the embed tests, served from another origin than Checkie.

Checkie runs on http://127.0.0.1:<port> (conftest's `live_server`); `host_sites("127.0.0.2")`
serves pages on http://127.0.0.2:<another port> (any 127/8 address is loopback on Linux), so
the browser treats the checkout iframe as cross-origin, as on a real shop. Each page carries
the snippet to paste and a small script of the merchant's that records every Checkie event
reaching `document` into `window.__events` as {type, detail, embed}.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

EVENTS = ("ready", "resize", "attempt_failed", "awaiting_action", "completed", "closed")

_RECORDER = """<script>
window.__events = [];
TYPES.forEach(function (type) {
  document.addEventListener(type, function (event) {
    window.__events.push({type: event.type, detail: event.detail,
                          embed: event.target.getAttribute("data-checkie-embed")});
  });
});
</script>""".replace("TYPES", json.dumps([f"checkie:{name}" for name in EVENTS]))

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>{recorder}</head>
<body>
<h1>{title}</h1>
<p><a href="#top">A link before the checkout</a></p>
{body}
<p><a href="#bottom">A link after the checkout</a></p>
</body>
</html>
"""


@dataclass
class HostSite:
    """One merchant origin: `add(path, body)` publishes a page there and returns its URL."""

    server: ThreadingHTTPServer
    pages: dict[str, bytes] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, body: str, *, title: str = "Paper Crane shop") -> str:
        self.pages[path] = _PAGE.format(title=title, recorder=_RECORDER, body=body).encode()
        return self.origin + path


def _handler(site_pages: dict[str, bytes]):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/favicon.ico":  # the shop has none; a 404 would be a console error
                self.send_response(204)
                self.end_headers()
                return
            body = site_pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args):  # keep pytest's output clean
            pass

    return Handler


@pytest.fixture(name="host_sites")
def host_sites_fixture():
    """`host_sites("127.0.0.2")` → a HostSite on that loopback address and a free port,
    stopped when the test ends."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def serve(host: str) -> HostSite:
        pages: dict[str, bytes] = {}
        server = ThreadingHTTPServer((host, 0), _handler(pages))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name=f"host-site-{host}", daemon=True)
        thread.start()
        started.append((server, thread))
        return HostSite(server, pages)

    yield serve
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
