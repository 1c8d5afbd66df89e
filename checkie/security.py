"""Secrets at rest and in links: token generation and hashing, password hashing, AES-256-GCM,
and the address check that keeps webhooks from reaching internal networks (SSRF)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (256 bits by default) for links and keys."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """SHA-256 hex of a high-entropy token: what we store and look up instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash): rehash when the stored hash used older parameters."""
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(password_hash)


#: Verified against when the account does not exist, so both paths cost the same time.
DUMMY_PASSWORD_HASH = _hasher.hash("not-a-real-password")


def _aes_key(encryption_key: str) -> bytes:
    key = base64.b64decode(encryption_key)
    if len(key) != 32:
        raise ValueError("ENCRYPTION_KEY must be the base64 encoding of 32 random bytes")
    return key


def encrypt_secret(plaintext: str, encryption_key: str) -> str:
    """AES-256-GCM; returns base64(nonce || ciphertext+tag)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_aes_key(encryption_key)).encrypt(nonce, plaintext.encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def decrypt_secret(token: str, encryption_key: str) -> str:
    raw = base64.b64decode(token)
    return AESGCM(_aes_key(encryption_key)).decrypt(raw[:12], raw[12:], None).decode()


#: Ranges `ipaddress` counts as global that a server-side request must still never reach.
_ALSO_REFUSED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (and Alibaba Cloud's metadata)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped ::ffff:a.b.c.d, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """May a webhook connect to this address? Only to globally routable unicast ones: loopback,
    private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved and
    unspecified addresses are refused, and so is IPv6 that wraps such an IPv4 address. Check
    the address actually connected to, not just the one resolved at save time (DNS rebinding)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
    if any(ip in network for network in _ALSO_REFUSED if network.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)
