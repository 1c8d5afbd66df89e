"""Production logs: JSON lines, each carrying the request id, plus one access line per request."""
import io
import json
import logging

import pytest

from tests.apps import fresh_app


def _routes(app):
    @app.get("/_test/work")
    def work():
        logging.getLogger("checkie.payments").info("charging card")
        return "done"

    @app.post("/_test/form")
    def form():
        return "accepted"

    @app.get("/_test/crash")
    def crash():
        raise RuntimeError("database exploded")


@pytest.fixture
def production_logs(app):
    """(client, read_lines) for an app logging JSON with access lines, as production does."""
    with fresh_app(app, {"LOG_JSON": True, "ACCESS_LOG": True}, setup=_routes) as logged:
        stream = io.StringIO()
        logging.getLogger("checkie").handlers[0].setStream(stream)

        def read_lines():
            return [json.loads(line) for line in stream.getvalue().splitlines()]

        yield logged.test_client(), read_lines


def test_every_line_of_a_request_carries_its_id(production_logs):
    client, read_lines = production_logs
    response = client.get("/_test/work", headers={"X-Request-ID": "req-42.a_b"})
    assert response.headers["X-Request-ID"] == "req-42.a_b"
    app_line, access_line = read_lines()
    assert app_line["message"] == "charging card"
    assert app_line["level"] == "INFO" and app_line["name"] == "checkie.payments"
    assert app_line["request_id"] == access_line["request_id"] == "req-42.a_b"


def test_access_line_has_method_path_status_and_duration(production_logs):
    client, read_lines = production_logs
    client.get("/healthz?probe=1")
    (line,) = read_lines()
    assert line["name"] == "checkie.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 65, "quote\"inject"])
def test_a_fresh_id_replaces_a_missing_or_malformed_one(production_logs, incoming):
    client, read_lines = production_logs
    headers = {"X-Request-ID": incoming} if incoming is not None else {}
    request_id = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    assert read_lines()[0]["request_id"] == request_id
    assert client.get("/healthz").headers["X-Request-ID"] != request_id


def test_refused_requests_are_logged_with_an_id_too(production_logs):
    client, read_lines = production_logs
    response = client.post("/_test/form")  # no CSRF token: refused (sent back) before any view runs
    assert response.status_code == 303
    (line,) = read_lines()
    assert line["status"] == 303 and line["request_id"] == response.headers["X-Request-ID"]


def test_unhandled_errors_are_logged_with_traceback_and_id(production_logs):
    client, read_lines = production_logs
    response = client.get("/_test/crash")
    assert response.status_code == 500
    error_line, access_line = read_lines()
    assert error_line["level"] == "ERROR"
    assert "Traceback" in error_line["exc_info"] and "database exploded" in error_line["exc_info"]
    assert error_line["request_id"] == access_line["request_id"] == response.headers["X-Request-ID"]
    assert access_line["status"] == 500


def test_development_logs_are_plain_text_without_access_lines(app):
    with fresh_app(app, {"LOG_JSON": False, "ACCESS_LOG": False}, setup=_routes) as plain:
        stream = io.StringIO()
        logging.getLogger("checkie").handlers[0].setStream(stream)
        plain.test_client().get("/_test/work")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith("INFO checkie.payments: charging card")
