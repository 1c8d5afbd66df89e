"""The SSRF guard at save time (issue 11, SSRF guard; SPEC §7): every URL of the corpus is
refused with a message on `url`, public ones pass, and nothing touches the network."""
from __future__ import annotations

import pytest

from checkie.errors import ValidationFailed
from checkie.webhooks.addresses import BlockedAddress, check_endpoint_url, is_allowed_address, resolve_allowed
from tests.webhooks.network import record_connections, stub_dns
from tests.webhooks.ssrf_corpus import ACCEPTED_URLS, DNS, REFUSED_URLS


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    stub_dns(monkeypatch, DNS)
    attempts = record_connections(monkeypatch)
    yield
    assert attempts == []


def test_the_corpus_is_as_large_as_the_issue_asks():
    assert len(set(REFUSED_URLS)) >= 40


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_every_corpus_url_is_refused_with_a_message_on_the_url_field(url):
    with pytest.raises(ValidationFailed) as refused:
        check_endpoint_url(url, allow_private=False)
    assert refused.value.fields == {"url": [refused.value.message]}
    assert refused.value.message


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_public_urls_are_accepted_as_given(url):
    assert check_endpoint_url(f"  {url} ", allow_private=False) == url


def test_a_private_address_is_refused_in_words_a_merchant_understands():
    with pytest.raises(ValidationFailed, match="public internet address"):
        check_endpoint_url("http://127.1/hook", allow_private=False)
    with pytest.raises(ValidationFailed, match="https://"):
        check_endpoint_url("gopher://public.test/", allow_private=False)
    with pytest.raises(ValidationFailed, match="user name or password"):
        check_endpoint_url("https://evil@127.0.0.1/", allow_private=False)


def test_allowing_private_addresses_keeps_the_shape_checks():
    assert check_endpoint_url("http://127.0.0.1:8000/hook", allow_private=True) == "http://127.0.0.1:8000/hook"
    assert check_endpoint_url("http://internal.test/hook", allow_private=True) == "http://internal.test/hook"
    for url in ("file:///etc/passwd", "https://evil@127.0.0.1/", "gopher://127.0.0.1/", "http:///x"):
        with pytest.raises(ValidationFailed):
            check_endpoint_url(url, allow_private=True)


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "198.19.255.255", "0.0.0.0", "224.0.0.251",
     "::1", "::", "fe80::1", "fc00::1", "fec0::1", "ff0e::1", "::ffff:192.168.0.1", "::10.0.0.1",
     "64:ff9b::c0a8:1", "2002:c0a8:1::", "2001:db8::1", "not an address"],
)
def test_addresses_outside_global_unicast_are_not_allowed(ip):
    assert not is_allowed_address(ip)


@pytest.mark.parametrize("ip", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_global_unicast_addresses_are_allowed(ip):
    assert is_allowed_address(ip)


def test_resolving_returns_the_checked_addresses_and_normalises_literals():
    assert resolve_allowed("public.test", 443, allow_private=False) == ["93.184.215.14"]
    assert resolve_allowed("0x7f.1", 80, allow_private=True) == ["127.0.0.1"]


def test_resolving_refuses_when_any_answer_is_private():
    with pytest.raises(BlockedAddress, match="127.0.0.1"):
        resolve_allowed("mixed.test", 443, allow_private=False)
    assert resolve_allowed("mixed.test", 443, allow_private=True) == ["93.184.215.14", "127.0.0.1"]
