"""Secrets at rest and in links: token generation and hashing, password hashing, AES-256-GCM."""
from __future__ import annotations

import base64
import hashlib
import hmac
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
