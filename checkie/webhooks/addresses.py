"""Which addresses a merchant's webhook endpoint may reach (SPEC §7, the SSRF guard).

A merchant types a URL and Checkie's servers post to it, so the URL must never let a merchant
reach Checkie's own network: loopback, private ranges, the cloud metadata service and the like.
Only global unicast addresses pass. Literal IPs are read in every form a resolver accepts
(`127.1`, `2130706433`, `0x7f000001`, `[::ffff:127.0.0.1]`, …) and addresses that carry an
IPv4 address inside an IPv6 one (mapped, compatible, NAT64, 6to4, Teredo) are judged by the
IPv4 address they lead to. Names are resolved with `socket.getaddrinfo` and refused when any
answer is not allowed; the delivery client connects to the very address it checked, so a name
that changes its answer between the check and the connection (DNS rebinding) gains nothing.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from checkie.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")

#: Ranges `ipaddress.is_global` lets through on Python 3.11 but that no webhook may reach.
_ALSO_REFUSED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "192.0.2.0/24",  # documentation (TEST-NET-1, -2, -3)
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",  # reserved, and the broadcast address
        "2001:db8::/32",  # documentation
        "3fff::/20",
        "fec0::/10",  # site-local (deprecated, still routed inside some networks)
        "5f00::/16",  # segment routing identifiers
    )
)
#: IPv6 prefixes that carry an IPv4 address in their last 32 bits.
_IPV4_IN_LOW_BITS = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "::/96",  # IPv4-compatible (deprecated), also covers :: and ::1
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b::/96",  # NAT64, well-known prefix
    )
)
#: NAT64 local-use prefix (RFC 8215): a network picks where the IPv4 address sits, so both the
#: RFC 6052 /48 position and the last 32 bits are judged.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")

_HEX_DIGITS = "0123456789abcdef"
_DECIMAL_DIGITS = "0123456789"
_OCTAL_DIGITS = "01234567"


class BlockedAddress(Exception):
    """A webhook host resolved to (or is) an address outside the global internet."""


def check_endpoint_url(url: str, *, allow_private: bool) -> str:
    """The URL a merchant saves for an endpoint, stripped, or `ValidationFailed` on `url`.

    With `allow_private` (development and tests: `WEBHOOK_ALLOW_PRIVATE_URLS=1`) only the
    scheme and shape are checked; otherwise the host must be, or resolve only to, global
    addresses. Resolving a name is a DNS look-up, so this runs at save time, not per request
    of an unrelated page."""
    candidate = url.strip()
    parts = _url_parts(candidate)
    if not allow_private:
        _refuse_unless_public_host(parts)
    return candidate


def is_allowed_address(ip: str | IPAddress) -> bool:
    """Whether a webhook may connect to `ip`: global unicast only, judged by the IPv4
    address inside any IPv4-carrying IPv6 form."""
    try:
        address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return False
    embedded = embedded_ipv4_addresses(address)
    if embedded:
        return all(is_allowed_address(inner) for inner in embedded)
    return _is_global_unicast(address)


def embedded_ipv4_addresses(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (mapped, compatible, NAT64, 6to4, Teredo);
    empty for any other address."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return [server, client]
    if any(address in network for network in _IPV4_IN_LOW_BITS):
        return [_low_ipv4(address)]
    if address in _NAT64_LOCAL_USE:
        packed = address.packed
        return [ipaddress.IPv4Address(packed[6:8] + packed[9:11]), _low_ipv4(address)]
    return []


def resolve_allowed(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for `host`, resolved once: every answer must be allowed
    (else `BlockedAddress`), and the caller connects to these, never to the name again.

    A name that does not resolve raises `socket.gaierror` (an `OSError`)."""
    try:
        literal = literal_ip(host)
        name = ascii_host(host)
    except ValueError:
        raise BlockedAddress(f"{host} is not a valid host") from None
    if literal is not None:
        addresses = [str(literal)]
    else:
        answers = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
    if not addresses:
        raise BlockedAddress(f"{host} resolved to no address")
    if not allow_private:
        refused = [address for address in addresses if not is_allowed_address(address)]
        if refused:
            raise BlockedAddress(f"{host} resolves to {refused[0]}, which is not a public address")
    return addresses


def ascii_host(host: str) -> str:
    """`host` as DNS, SNI and `Host:` carry it: IDNA for a name with non-ASCII letters
    (`UnicodeError`, a `ValueError`, when it has no such form)."""
    return host if host.isascii() else host.encode("idna").decode("ascii")


def literal_ip(host: str) -> IPAddress | None:
    """`host` read as an IP address in any form a resolver accepts, or None for a name.

    IPv4 follows `inet_aton`: one to four dot-separated parts, each decimal, octal (leading
    0) or hex (0x); the last part fills the remaining bytes (`127.1`, `2130706433`).
    A host whose last label is numeric but that is no valid address raises `ValueError`."""
    bare = host.strip("[]").rstrip(".")
    if ":" in bare:
        return ipaddress.IPv6Address(bare)
    labels = bare.split(".")
    if _parse_number(labels[-1]) is None:
        return None
    numbers = [_parse_number(label) for label in labels]
    if len(labels) > 4 or None in numbers:
        raise ValueError(f"{host} is not a valid IP address")
    return _ipv4_from_parts([number for number in numbers if number is not None])


def _url_parts(candidate: str) -> SplitResult:
    if not candidate:
        raise _invalid("Enter the URL Checkie should send events to.")
    if len(candidate) > MAX_URL_LENGTH:
        raise _invalid(f"The URL is too long (at most {MAX_URL_LENGTH} characters).")
    if any(character.isspace() or not character.isprintable() for character in candidate):
        raise _invalid("The URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise _invalid("The URL is not valid; check the host and the port.") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise _invalid("The URL must start with https:// (or http://).")
    if "@" in parts.netloc:
        raise _invalid("The URL cannot contain a user name or password.")
    if not parts.hostname:
        raise _invalid("The URL needs a host name, as in https://example.com/webhooks.")
    return parts


def _refuse_unless_public_host(parts: SplitResult) -> None:
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        literal_ip(host)
        ascii_host(host)
    except ValueError:
        raise _invalid("The URL's host is not a valid host name or IP address.") from None
    try:
        resolve_allowed(host, port, allow_private=False)
    except BlockedAddress:
        raise _invalid("The URL must point to a public internet address, not a private or local network.") from None
    except OSError:
        raise _invalid(f"The host name {host} could not be found.") from None


def _is_global_unicast(address: IPAddress) -> bool:
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified:
        return False
    return not any(address in network for network in _ALSO_REFUSED if network.version == address.version)


def _low_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(address.packed[-4:])


def _parse_number(label: str) -> int | None:
    """One `inet_aton` part: 0x-hex, 0-octal or decimal; None when it is not a number at all."""
    lowered = label.lower()
    if lowered.startswith("0x") and set(lowered[2:]) <= set(_HEX_DIGITS):
        return int(lowered[2:] or "0", 16)
    if lowered and set(lowered) <= set(_DECIMAL_DIGITS):
        octal = len(lowered) > 1 and lowered.startswith("0")
        if octal and set(lowered) <= set(_OCTAL_DIGITS):
            return int(lowered, 8)
        return None if octal else int(lowered, 10)
    return None


def _ipv4_from_parts(numbers: list[int]) -> ipaddress.IPv4Address:
    *leading, last = numbers
    if any(number > 0xFF for number in leading) or last >= 256 ** (4 - len(leading)):
        raise ValueError("IPv4 part out of range")
    value = 0
    for number in leading:
        value = value << 8 | number
    return ipaddress.IPv4Address(value << 8 * (4 - len(leading)) | last)


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"url": [message]})
