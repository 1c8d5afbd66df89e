"""checkie.security: tokens, passwords, AES-256-GCM secrets and the SSRF address check."""
import base64
import hashlib
import os

import pytest
from cryptography.exceptions import InvalidTag

from checkie.security import (
    decrypt_secret,
    encrypt_secret,
    hash_password,
    hash_token,
    is_public_address,
    new_token,
    tokens_equal,
    verify_password,
)

KEY = base64.b64encode(os.urandom(32)).decode()
OTHER_KEY = base64.b64encode(os.urandom(32)).decode()


def test_tokens_are_random_and_url_safe():
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 43 and set(t) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for t in tokens)
    assert len(base64.urlsafe_b64decode(new_token(16) + "==")) == 16


def test_tokens_are_stored_as_their_sha256():
    token = new_token()
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest() == hash_token(token)
    assert hash_token(token) != hash_token(token + "x") and token not in hash_token(token)


def test_token_comparison():
    assert tokens_equal("abc", "abc")
    assert not tokens_equal("abc", "abd") and not tokens_equal("abc", "abcd")


def test_passwords():
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse") == (True, False)
    assert verify_password(stored, "wrong horse") == (False, False)
    assert verify_password("not-a-hash", "correct horse") == (False, False)


def test_secret_round_trip():
    sealed = encrypt_secret("sk_live_ünïcødé", KEY)
    assert "sk_live" not in sealed
    assert decrypt_secret(sealed, KEY) == "sk_live_ünïcødé"


def test_each_encryption_uses_a_fresh_nonce():
    assert encrypt_secret("same", KEY) != encrypt_secret("same", KEY)


@pytest.mark.parametrize("position", [0, 12, -1])  # the nonce, the ciphertext, the tag
def test_tampering_is_detected(position):
    raw = bytearray(base64.b64decode(encrypt_secret("whsec_abc", KEY)))
    raw[position] ^= 0x01
    with pytest.raises(InvalidTag):
        decrypt_secret(base64.b64encode(bytes(raw)).decode(), KEY)


def test_another_key_cannot_decrypt():
    with pytest.raises(InvalidTag):
        decrypt_secret(encrypt_secret("whsec_abc", KEY), OTHER_KEY)


def test_keys_must_be_32_bytes():
    with pytest.raises(ValueError, match="32 random bytes"):
        encrypt_secret("x", base64.b64encode(bytes(16)).decode())


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.64.0.1", "100.100.100.200",  # CGNAT, Alibaba metadata
        "192.0.0.192", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",  # special and documentation
        "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",  # multicast, reserved, broadcast
        "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254", "ff02::1", "2001:db8::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",  # IPv4-mapped
        "64:ff9b::7f00:1", "2002:7f00:1::", "2002:a9fe:a9fe::",  # NAT64 and 6to4 wrapping internal IPv4
        "::7f00:1",  # IPv4-compatible (deprecated)
        "not-an-address", "", "example.com", "127.0.0.1:80",
    ],
)
def test_internal_and_special_addresses_are_refused(address):
    assert not is_public_address(address)


def test_accepts_ipaddress_objects():
    import ipaddress

    assert is_public_address(ipaddress.ip_address("8.8.4.4"))
    assert not is_public_address(ipaddress.ip_address("::ffff:192.168.0.1"))
