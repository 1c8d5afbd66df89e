"""checkie.extensions.Limiter: a request whose view no limit can apply to skips Flask-Limiter's
per-request resolution; every limit declared anywhere is still checked."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_limiter.util import get_qualified_name, get_remote_address

from checkie.extensions import Limiter, limiter


def _decorated_endpoints(app) -> set[str]:
    """Endpoints whose view Flask-Limiter itself records as decorated with a limit."""
    marked = limiter._marked_for_limiting
    return {endpoint for endpoint, view in app.view_functions.items() if get_qualified_name(view) in marked}


def test_every_view_a_limit_decorates_is_known_as_limited(app):
    decorated = _decorated_endpoints(app)
    assert {"widget.update_checkout", "widget.pay", "widget.open_checkout"} <= decorated  # not vacuous
    assert any(endpoint.endswith("login") for endpoint in decorated)
    with app.app_context():
        assert decorated <= limiter._limited_endpoints(app)


@pytest.mark.parametrize(("method", "path", "skipped"), [
    ("PATCH", "/api/widget/sessions/cs_x", False),
    ("GET", "/api/widget/sessions/cs_x/status", False),
    ("POST", "/api/widget/checkout", False),
    ("POST", "/login", False),
    ("GET", "/healthz", True),
    ("GET", "/c/s/cs_x", True),
    ("POST", "/api/webhooks/stripe", True),
])
def test_only_requests_of_unlimited_views_skip_the_limiter(app, method, path, skipped):
    with app.test_request_context(path, method=method):
        assert limiter._nothing_limits_this_view() is skipped


@pytest.fixture
def tiny():
    """An app of its own with a limiter of its own (memory storage): one limit a minute."""
    app = Flask("tiny")
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    own = Limiter(key_func=get_remote_address, app=app)

    @own.limit("1/minute")
    def limited_helper() -> str:
        return "helped"

    @app.get("/free")
    def free():
        return "free"

    @app.get("/limited")
    @own.limit("1/minute")
    def limited():
        return "limited"

    @app.get("/calls-a-limited-helper")
    def calls_a_limited_helper():
        return limited_helper()

    return app, own


def test_limits_on_views_and_on_functions_they_call_still_hold(tiny):
    app, _own = tiny
    client = app.test_client()
    assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 200]
    assert [client.get("/limited").status_code for _ in range(2)] == [200, 429]
    assert [client.get("/calls-a-limited-helper").status_code for _ in range(2)] == [200, 429]


def test_default_limits_turn_the_skipping_off():
    app = Flask("tiny")
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    Limiter(key_func=get_remote_address, app=app, default_limits=["1/minute"])

    @app.get("/free")
    def free():
        return "free"

    client = app.test_client()
    assert [client.get("/free").status_code for _ in range(2)] == [200, 429]
