"""Network doubles for the webhook tests: a stubbed resolver, a recorder of every connection
urllib3 opens, and a local receiver on 127.0.0.1. Nothing here reaches the internet."""
from __future__ import annotations

import ipaddress
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
        if _is_ip(host):  # a resolver answers an address with itself (urllib3 asks so before connecting)
            return [(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (stubbed)")
        rounds = self.answers[host]
        addresses = rounds[min(self.lookups.count(host), len(rounds)) - 1]
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def stub_dns(monkeypatch: pytest.MonkeyPatch, answers: Answers) -> StubResolver:
    resolver = StubResolver(answers)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


def record_connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address urllib3 (or socket.create_connection) tries; only loopback really connects,
    anything else is refused on the spot, so a test can never reach the internet."""
    attempts: list[tuple[str, int]] = []

    def guarded(real):
        def connect(address, *args, **kwargs):
            attempts.append((address[0], address[1]))
            if address[0] not in ("127.0.0.1", "::1"):
                raise ConnectionRefusedError("the tests connect to loopback only")
            return real(address, *args, **kwargs)

        return connect

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded(urllib3.util.connection.create_connection))
    monkeypatch.setattr(socket, "create_connection", guarded(socket.create_connection))
    return attempts


@contextmanager
def local_receiver(
    respond: Callable[[BaseHTTPRequestHandler], None], *, tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, list[dict]]]:
    """An HTTP server (https with `tls`) on 127.0.0.1 in a thread; `respond(handler)` answers
    each POST. Yields the base URL and the requests it received (path, headers, body)."""
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
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = False  # server_close() waits for every handler: what they record is complete
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", received
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


@contextmanager
def tls_receiver(certificate_host: str) -> Iterator[tuple[int, list[str | None], str]]:
    """An https server on 127.0.0.1 with a self-signed certificate for `certificate_host`;
    yields its port, the server names (SNI) clients asked for, and the certificate's path."""
    asked: list[str | None] = []
    with tempfile.TemporaryDirectory(prefix="checkie-tls-") as directory:
        certificate, key = _self_signed(certificate_host, directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        context.sni_callback = lambda _socket, server_name, _context: asked.append(server_name)
        with local_receiver(answer(200), tls=context) as (base, _):
            yield int(base.rsplit(":", 1)[1]), asked, certificate


def _self_signed(host: str, directory: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(certificate_path, "wb") as file:
        file.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as file:
        file.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return certificate_path, key_path
