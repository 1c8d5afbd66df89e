"""The guarded webhook client (issue 11, Delivery and SSRF guard; SPEC §7) against a local
receiver on 127.0.0.1, with DNS stubbed and every connection recorded: refused URLs open no
socket, redirects are not followed, answers are read capped, failures come back as outcomes."""
from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from checkie.webhooks.addresses import check_endpoint_url
from checkie.webhooks.client import MAX_EXCERPT_CHARS, post, retry_after_seconds
from tests.webhooks.network import answer, local_receiver, record_connections, stub_dns, tls_receiver
from tests.webhooks.ssrf_corpus import DNS, REFUSED_URLS

BODY = b'{"id":"evt_1","type":"payment.completed"}'


@pytest.fixture
def connections(monkeypatch):
    stub_dns(monkeypatch, DNS)
    return record_connections(monkeypatch)


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_refused_url_opens_no_socket_at_all(connections, url):
    outcome = post(url, BODY, {}, allow_private=False)

    assert outcome.status_code is None
    assert outcome.error.startswith(("Refused", "Could not resolve"))
    assert connections == []


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_at_delivery(monkeypatch, connections):
    resolver = stub_dns(monkeypatch, DNS)  # a fresh count of look-ups

    assert check_endpoint_url("https://rebinding.test/hook", allow_private=False)
    outcome = post("https://rebinding.test/hook", BODY, {}, allow_private=False)

    assert outcome.status_code is None and "127.0.0.1" in outcome.error
    assert connections == []
    assert resolver.lookups == ["rebinding.test", "rebinding.test"]


def test_the_connection_goes_to_the_address_that_was_checked_not_to_a_second_look_up(monkeypatch, connections):
    resolver = stub_dns(monkeypatch, DNS)

    outcome = post("https://rebinding.test:8443/hook", BODY, {}, allow_private=False)

    assert resolver.lookups == ["rebinding.test"]
    assert connections == [("93.184.215.14", 8443)]  # refused by the recorder: no internet in tests
    assert outcome.status_code is None and outcome.error.startswith("Could not connect")


def test_a_2xx_is_a_success_with_the_body_headers_and_host_sent(connections):
    with local_receiver(answer(204)) as (base, received):
        outcome = post(f"{base}/hooks/in?store=1", BODY, {"X-Webhook-Id": "evt_1"}, allow_private=True)

    assert outcome.status_code == 204 and outcome.succeeded and outcome.error is None
    assert outcome.retry_after is None
    assert received[0]["path"] == "/hooks/in?store=1"
    assert received[0]["body"] == BODY
    assert received[0]["headers"]["X-Webhook-Id"] == "evt_1"
    assert received[0]["headers"]["Host"] == base.removeprefix("http://")


def test_a_name_is_connected_to_by_its_checked_address_and_sent_as_the_host(monkeypatch, connections):
    stub_dns(monkeypatch, {"receiver.test": [["127.0.0.1"]]})
    with local_receiver(answer(200, b"ok")) as (base, received):
        port = base.rsplit(":", 1)[1]
        outcome = post(f"http://receiver.test:{port}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == 200 and outcome.response_excerpt == "ok"
    assert connections == [("127.0.0.1", int(port))]
    assert received[0]["headers"]["Host"] == f"receiver.test:{port}"


def test_an_international_name_is_resolved_and_sent_in_its_idna_form(monkeypatch, connections):
    resolver = stub_dns(monkeypatch, {"xn--bcher-kva.test": [["127.0.0.1"]]})
    with local_receiver(answer(200)) as (base, received):
        port = base.rsplit(":", 1)[1]
        outcome = post(f"http://bücher.test:{port}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == 200
    assert resolver.lookups == ["xn--bcher-kva.test"]
    assert received[0]["headers"]["Host"] == f"xn--bcher-kva.test:{port}"


def test_a_500_with_a_long_body_keeps_an_excerpt_of_at_most_1024_characters(connections):
    with local_receiver(answer(500, "é".encode() * 40_000)) as (base, _):
        outcome = post(f"{base}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == 500 and not outcome.succeeded
    assert outcome.response_excerpt == "é" * MAX_EXCERPT_CHARS
    assert outcome.error is None


def test_a_huge_answer_is_not_read_past_64_kb(connections):
    sent_in_full = []

    def flood(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            handler.wfile.write(b"x" * (64 * 1024 * 1024))
            sent_in_full.append(True)
        except OSError:  # the client hung up after its 64 KB
            sent_in_full.append(False)

    with local_receiver(flood) as (base, _):
        outcome = post(f"{base}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == 200 and outcome.response_excerpt == "x" * MAX_EXCERPT_CHARS
    assert sent_in_full == [False]


def test_an_undecodable_answer_is_kept_with_replacement_characters(connections):
    with local_receiver(answer(400, b"bad \xff\xfe input")) as (base, _):
        outcome = post(f"{base}/hook", BODY, {}, allow_private=True)

    assert outcome.response_excerpt == "bad \ufffd\ufffd input"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_reported(connections, status):
    with local_receiver(answer(status, b"slow down", {"Retry-After": "7"})) as (base, _):
        outcome = post(f"{base}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == status
    assert outcome.retry_after == 7.0


def test_retry_after_as_an_http_date_is_reported_in_seconds_from_now(connections):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    with local_receiver(answer(503, b"", {"Retry-After": later})) as (base, _):
        outcome = post(f"{base}/hook", BODY, {}, allow_private=True)

    assert 100 <= outcome.retry_after <= 120


def test_retry_after_reads_seconds_and_dates_and_ignores_nonsense():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("0") == 0.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:01:30 GMT", now=now) == 90.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") is None
    assert retry_after_seconds(None) is None


def test_a_redirect_is_an_outcome_and_its_target_is_never_requested(connections):
    with local_receiver(answer(204)) as (target, target_requests):
        redirect = answer(302, b"", {"Location": f"{target}/admin"})
        with local_receiver(redirect) as (base, _):
            outcome = post(f"{base}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == 302 and not outcome.succeeded
    assert target_requests == []


def test_a_slow_receiver_times_out_as_an_outcome(connections):
    release = threading.Event()

    def stall(handler):
        release.wait(5)
        answer(200)(handler)

    with local_receiver(stall) as (base, _):
        outcome = post(f"{base}/hook", BODY, {}, allow_private=True, timeout=0.5)
        release.set()

    assert outcome.status_code is None
    assert outcome.error == "Timed out after 0.5 s"
    assert 400 <= outcome.duration_ms < 3000


def test_a_refused_connection_is_an_outcome(connections):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens on this port now

    outcome = post(f"http://127.0.0.1:{port}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code is None
    assert outcome.error.startswith("Could not connect") and "refused" in outcome.error.lower()


def test_an_https_receiver_without_a_valid_certificate_is_a_tls_error_outcome(connections):
    with local_receiver(answer(200)) as (base, _):  # plain HTTP: the TLS handshake cannot succeed
        outcome = post(base.replace("http://", "https://") + "/hook", BODY, {}, allow_private=True, timeout=2)

    assert outcome.status_code is None
    assert outcome.error.startswith("TLS error")


def test_https_goes_to_the_checked_address_with_the_host_name_in_sni_and_the_certificate_check(monkeypatch, connections):
    stub_dns(monkeypatch, {"receiver.test": [["127.0.0.1"]]})
    with tls_receiver("receiver.test") as (port, server_names, _):
        outcome = post(f"https://receiver.test:{port}/hook", BODY, {}, allow_private=True)

    assert connections == [("127.0.0.1", port)]
    assert server_names == ["receiver.test"]
    # self-signed, so the certificate check for receiver.test refuses it: no body was sent
    assert outcome.status_code is None and "certificate verify failed" in outcome.error


def test_https_to_a_trusted_certificate_for_the_host_name_succeeds_though_the_socket_goes_to_an_ip(monkeypatch, connections):
    stub_dns(monkeypatch, {"receiver.test": [["127.0.0.1"]]})
    with tls_receiver("receiver.test") as (port, server_names, certificate):
        monkeypatch.setenv("SSL_CERT_FILE", certificate)  # OpenSSL's default trust store, for this test
        outcome = post(f"https://receiver.test:{port}/hook", BODY, {}, allow_private=True)

    assert outcome.status_code == 200, outcome.error
    assert connections == [("127.0.0.1", port)]
    assert server_names == ["receiver.test"]
