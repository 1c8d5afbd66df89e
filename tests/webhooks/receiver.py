"""A merchant's webhook receiver on 127.0.0.1 (an http.server thread): it answers from a script
of responses (then 200) and keeps every request it got, for the delivery tests."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


class _Server(ThreadingHTTPServer):
    #: Consumers post a batch's requests at once (several per worker thread): a listen queue of
    #: socketserver's default 5 would reset the connections a real server accepts.
    request_queue_size = 128


class Receiver:
    """`url` to give an endpoint; `answer(...)` queues what the next requests get; `received`.
    `hold_after(n)` keeps every request after the n-th waiting (its sender stuck mid-post) until
    `release()`, which answers those 503: a consumer can be killed while it is sending."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.held = 0
        self._hold_after: int | None = None
        self._released = threading.Event()
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def answer(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def hold_after(self, count: int) -> None:
        self._hold_after = count

    def release(self) -> None:
        """Answer the held requests (503) and hold no more."""
        with self._lock:
            self._hold_after = None
        self._released.set()

    def event_ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, request: Received) -> Answer:
        with self._lock:
            holding = self._hold_after is not None and len(self.received) >= self._hold_after
            if holding:
                self.held += 1
            else:
                self.received.append(request)
                return self._script.popleft() if self._script else Answer()
        self._released.wait(timeout=60)
        return Answer(503, body=b"held, then refused")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = receiver._next(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format, *args) -> None:  # quiet: pytest shows what matters
                pass

        return Handler
