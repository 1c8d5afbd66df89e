"""Security headers on every response (SPEC §9): a CSP allowing only what the page needs."""
import re

import pytest

from tests.apps import fresh_app


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (part.strip() for part in policy.split(";"))}


@pytest.mark.parametrize("url", ["/healthz", "/dev/mailbox", "/no-such-page", "/api/openapi.json", "/api/nothing"])
def test_default_headers(client, url):
    response = client.get(url)
    policy = csp(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http outside production


def test_hsts_in_production(app):
    with fresh_app(app, {"CHECKIE_ENV": "production"}) as production:
        response = production.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_api_json_is_not_cached(client):
    assert client.get("/api/openapi.json").headers["Cache-Control"] == "no-store"
    assert client.get("/api/nothing").headers["Cache-Control"] == "no-store"


def test_api_docs_page_gets_only_the_styles_swagger_needs(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = csp(response)
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"  # still no inline or eval'd scripts
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_api_docs_page_has_no_inline_script_and_points_at_the_spec(client):
    html = client.get("/api/docs").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "on" + "load=" not in html and "javascript:" not in html
    spec_url = re.search(r'data-spec-url="([^"]+)"', html).group(1)
    spec = client.get(spec_url)
    assert spec.status_code == 200 and spec.get_json()["info"]["title"] == "Checkie API"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
