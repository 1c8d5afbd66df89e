"""Errors look the same everywhere: a friendly HTML page, or `{"error":{…}}` under /api/."""
import pytest
from flask import abort
from flask_smorest import abort as api_abort

from checkie.errors import Conflict, PermissionDenied, ValidationFailed
from checkie.extensions import limiter
from tests.apps import fresh_app

HTML_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    409: "That changed in the meantime",
    422: "Please check your input",
    429: "Too many requests",
    500: "Something went wrong",
}


def _routes(app):
    for prefix in ("", "/api"):
        app.add_url_rule(f"{prefix}/_test/abort/<int:code>", f"abort{prefix}", lambda code: abort(code))
        app.add_url_rule(f"{prefix}/_test/crash", f"crash{prefix}", _crash)
        app.add_url_rule(f"{prefix}/_test/domain/<kind>", f"domain{prefix}", _domain_error)
        app.add_url_rule(f"{prefix}/_test/limited", f"limited{prefix}", limiter.limit("1/minute")(lambda: "ok"))
    app.add_url_rule("/api/_test/invalid", "invalid", _webargs_error)
    app.add_url_rule("/api/_test/nested", "nested", _nested_webargs_error)
    app.add_url_rule("/api/_test/bad-json", "bad_json", _bad_json)


def _crash():
    raise RuntimeError("secret connection string postgres://admin:hunter2@db")


def _domain_error(kind):
    raise {
        "conflict": Conflict("The page was archived in the meantime."),
        "forbidden": PermissionDenied("Viewers cannot change pages."),
        "invalid": ValidationFailed.on("email", "Enter a valid email address."),
    }[kind]


def _webargs_error():
    """What flask-smorest/webargs raise for a body that fails its schema."""
    api_abort(422, messages={"json": {"email": ["Not a valid email address."], "amount": ["Missing data."]}})


def _nested_webargs_error():
    api_abort(422, messages={"json": {"pricing": {"amount": ["Must be at least 1."]}, "ids": {0: ["Not a valid integer."]}}})


def _bad_json():
    """What webargs raises for a body that is not JSON at all."""
    api_abort(400, messages={"json": ["Invalid JSON body."]})


@pytest.fixture
def client(app):
    with fresh_app(app, setup=_routes) as errors_app:
        yield errors_app.test_client()


def assert_error_page(response, status):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith("<!doctype html>") and "pico" in html  # the normal layout
    assert f"<h1>{HTML_TITLES[status]}</h1>" in html
    assert f"Error {status}" in html
    return html


def assert_json_error(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


@pytest.mark.parametrize("status", [400, 403, 404, 405, 409, 422, 429])
def test_html_error_pages(client, status):
    assert_error_page(client.get(f"/_test/abort/{status}"), status)


@pytest.mark.parametrize(
    "status, code",
    [(400, "bad_request"), (401, "unauthorized"), (403, "forbidden"), (404, "not_found"), (405, "method_not_allowed"),
     (409, "conflict"), (422, "validation_error"), (429, "rate_limited")],
)
def test_json_errors_under_api(client, status, code):
    error = assert_json_error(client.get(f"/api/_test/abort/{status}"), status, code)
    assert "fields" not in error


def test_unknown_urls(client):
    html = assert_error_page(client.get("/no/such/page"), 404)
    assert "mistyped" in html
    assert_json_error(client.get("/api/no/such/thing"), 404, "not_found")


def test_unhandled_exception_is_a_generic_500(client):
    html = assert_error_page(client.get("/_test/crash"), 500)
    assert "Something went wrong on our side" in html and "hunter2" not in html
    error = assert_json_error(client.get("/api/_test/crash"), 500, "internal_error")
    assert error["message"] == "Something went wrong on our side. Please try again."


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.post("/healthz")
    assert_error_page(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    response = client.delete("/api/openapi.json")
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_rate_limited_requests_say_when_to_retry(client, prefix):
    assert client.get(f"{prefix}/_test/limited").status_code == 200
    response = client.get(f"{prefix}/_test/limited")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    if prefix:
        assert_json_error(response, 429, "rate_limited")
    else:
        assert_error_page(response, 429)


def test_domain_errors_keep_their_status_code_and_message(client):
    error = assert_json_error(client.get("/api/_test/domain/conflict"), 409, "conflict")
    assert error["message"] == "The page was archived in the meantime."
    assert_json_error(client.get("/api/_test/domain/forbidden"), 403, "forbidden")
    error = assert_json_error(client.get("/api/_test/domain/invalid"), 422, "validation_error")
    assert error["fields"] == {"email": ["Enter a valid email address."]}
    html = assert_error_page(client.get("/_test/domain/conflict"), 409)
    assert "The page was archived in the meantime." in html


def test_schema_errors_list_each_field(client):
    error = assert_json_error(client.get("/api/_test/invalid"), 422, "validation_error")
    assert error["fields"] == {"email": ["Not a valid email address."], "amount": ["Missing data."]}
    assert error["message"] == "Some fields are invalid."


def test_nested_field_errors_are_named_by_path(client):
    error = assert_json_error(client.get("/api/_test/nested"), 422, "validation_error")
    assert error["fields"] == {"pricing.amount": ["Must be at least 1."], "ids.0": ["Not a valid integer."]}


def test_a_body_that_is_not_json(client):
    error = assert_json_error(client.get("/api/_test/bad-json"), 400, "bad_request")
    assert error == {"code": "bad_request", "message": "Invalid JSON body."}


def test_error_messages_are_escaped(client):
    html = client.get("/no/<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
