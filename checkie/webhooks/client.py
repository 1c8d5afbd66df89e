"""The one HTTP client that posts webhooks to merchants' endpoints (SPEC §7).

A merchant's URL is untrusted, so the client: resolves the host once and refuses it unless every
address is global (`addresses.resolve_allowed`), then opens its socket to that checked address
itself, sending the original host name in `Host:` and, for https, in SNI and the certificate
check, so a name that answers differently on the second look-up (DNS rebinding) never reaches a
private address; follows no redirect; gives up after `timeout` seconds; reads at most 64 KB of
the answer. It never raises for the network: every failure is an `HttpOutcome` with an error.
"""
from __future__ import annotations

import email.utils
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from checkie.errors import ValidationFailed
from checkie.webhooks.addresses import BlockedAddress, ascii_host, check_endpoint_url, resolve_allowed

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_EXCERPT_CHARS = 1024
_READ_CHUNK_BYTES = 8 * 1024


@dataclass(frozen=True)
class HttpOutcome:
    """What one POST came to: a status code, or None and an `error` when no answer came."""

    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None
    #: Seconds the receiver asked to wait (`Retry-After`, seconds or an HTTP date), when it said.
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> HttpOutcome:
    """POST `body` to `url` once, guarded as the module says; `timeout` bounds the whole exchange."""
    started = time.monotonic()
    try:
        parts = urlsplit(check_endpoint_url(url, allow_private=True))
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        address = resolve_allowed(parts.hostname or "", port, allow_private=allow_private)[0]
        status, response_headers, content = _exchange(parts, address, port, body, headers, started + timeout)
    except (ValidationFailed, BlockedAddress) as refused:
        return _failure(started, f"Refused: {refused}")
    except socket.gaierror as error:
        return _failure(started, f"Could not resolve the host name: {error}")
    except NewConnectionError as error:  # before timeouts: urllib3 makes it a ConnectTimeoutError
        return _failure(started, f"Could not connect: {_reason(error)}")
    except (Urllib3Timeout, TimeoutError):
        return _failure(started, f"Timed out after {timeout:g} s")
    except SSLError as error:
        return _failure(started, f"TLS error: {_reason(error)}")
    except (HTTPError, OSError) as error:
        return _failure(started, f"Network error: {_reason(error)}")
    return HttpOutcome(
        status_code=status,
        duration_ms=_elapsed_ms(started),
        response_excerpt=content.decode("utf-8", errors="replace")[:MAX_EXCERPT_CHARS],
        error=None,
        retry_after=retry_after_seconds(response_headers.get("Retry-After")),
    )


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A `Retry-After` header as seconds from now (never negative), None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _exchange(
    parts: SplitResult, address: str, port: int, body: bytes, headers: dict[str, str], deadline: float
) -> tuple[int, urllib3.HTTPHeaderDict, bytes]:
    """One request on a fresh connection to the checked `address`; the status, headers and at
    most MAX_RESPONSE_BYTES of the body (undecoded: a compressed answer is not inflated)."""
    host = ascii_host(parts.hostname or "")  # resolve_allowed has checked it converts
    remaining = max(deadline - time.monotonic(), 0.001)
    pool = _pool(parts.scheme.lower(), host, address, port, urllib3.Timeout(total=remaining))
    with pool:
        response = pool.urlopen(
            "POST",
            _request_target(parts),
            body=body,
            headers={**headers, "Host": _host_header(host, parts.port)},
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=False,
        )
        try:
            content = _read_capped(response, deadline)
        finally:
            response.close()
    return response.status, response.headers, content


def _pool(scheme: str, host: str, address: str, port: int, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    """A one-connection pool aimed at `address`; https checks the certificate for `host`."""
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=host,
            assert_hostname=host,
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, maxsize=1, retries=False)


def _host_header(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def _request_target(parts: SplitResult) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _read_capped(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """At most MAX_RESPONSE_BYTES, stopping at the deadline: a receiver that drips its answer
    cannot hold a worker past the timeout by more than one socket read."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError("response not read in time")
        chunk = response.read(min(_READ_CHUNK_BYTES, MAX_RESPONSE_BYTES - size), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _failure(started: float, error: str) -> HttpOutcome:
    return HttpOutcome(status_code=None, duration_ms=_elapsed_ms(started), response_excerpt="", error=error)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _reason(error: BaseException) -> str:
    """The innermost cause's message, which names what went wrong (refused, reset, certificate)."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return str(error) or type(error).__name__
