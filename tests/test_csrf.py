"""Every route that changes state refuses a request without a CSRF token (SPEC §9), unless it
is authenticated by something a cross-site page cannot make the browser send.

The routes are read from the app's URL map when the test runs, so a new route is covered the
moment it exists: it must either refuse (Flask-WTF's CSRFProtect, on by default) or be listed
in EXEMPT with the reason it is safe.

A refusal is one answer everywhere (checkie.web.handle_csrf_error): back to the page the form
was on, by 303 or, for htmx, by HX-Redirect, with a flash saying the session expired.
"""
import re

import pytest
import sqlalchemy as sa

from checkie.stores.api_keys import create_api_key
from checkie.stores.models import ApiKey, Role, StoreMember
from checkie.web import EXPIRED_FORM
from tests.factories import add_member, make_user
from tests.http import csrf_token, login

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

#: Path prefixes whose routes never authenticate with the session cookie.
EXEMPT = {
    "/api/": "JSON API: Authorization: Bearer (user JWTs, store API keys), public widget and PSP "
    "webhook endpoints (signatures); the session cookie is never accepted",
    "/embed/": "the framed checkout (storefront/checkout.py, framed) uses no cookies at all: the unguessable "
    "checkout session id in the URL is the capability, and a cross-site page cannot learn it",
}

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def csrf_app(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", True)
    return app


@pytest.fixture
def signed_in(csrf_app, user, store):
    client = csrf_app.test_client()
    login(client, user)
    return client


def fill(rule: str, known_ids: dict[str, int]) -> str:
    """/dashboard/stores/<int:store_id>/x → /dashboard/stores/1/x, real ids where we have them."""

    def value(match: re.Match) -> str:
        converter, name = match.group(1) or "string", match.group(2)
        if converter == "int":
            return str(known_ids.get(name, 1))
        if converter == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        return f"test-{name}"

    return _PLACEHOLDER.sub(value, rule)


def mutating_routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) for every state-changing route."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & MUTATING):
            routes.append((method, rule.rule, rule.endpoint))
    return routes


def exemption(rule: str) -> str | None:
    return next((prefix for prefix in EXEMPT if rule.startswith(prefix)), None)


def sent_back(client, response) -> str | None:
    """Where a CSRF refusal sends the browser (None when `response` is not one): a 303 for a
    plain post, HX-Redirect for htmx, and the expired-session flash either way. Reading the
    flash takes it out of the session, as showing it would."""
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    if ("error", EXPIRED_FORM) not in flashes:
        return None
    if "HX-Redirect" in response.headers:
        return response.headers["HX-Redirect"] if response.status_code == 200 else None
    return response.headers.get("Location") if response.status_code == 303 else None


def is_refusal(client, response) -> bool:
    return sent_back(client, response) is not None


def test_every_cookie_authenticated_mutation_needs_a_token(csrf_app, signed_in, store):
    known_ids = {"store_id": store.id}
    checked, unprotected = [], []
    for method, rule, endpoint in mutating_routes(csrf_app):
        if exemption(rule):
            continue
        url = fill(rule, known_ids)
        for headers in ({}, HTMX):
            response = signed_in.open(url, method=method, data={"name": "x"}, headers=headers)
            if not is_refusal(signed_in, response):
                unprotected.append(f"{method} {rule} ({endpoint}) {'htmx ' if headers else ''}→ {response.status_code}")
        checked.append(rule)
    assert checked, "no cookie-authenticated mutating routes found: is the URL map empty?"
    assert unprotected == [], "routes that change state without a CSRF token:\n" + "\n".join(unprotected)


def test_exempt_routes_really_work_without_a_token(csrf_app, signed_in, store):
    """The other half of the list: an exempt route that still demanded a token would break
    every API client (they have no session to take one from)."""
    exempt = [(method, rule) for method, rule, _ in mutating_routes(csrf_app) if exemption(rule)]
    assert {exemption(rule) for _, rule in exempt} == set(EXEMPT), "an EXEMPT entry matches no route"
    refused = [
        f"{method} {rule}"
        for method, rule in exempt
        if is_refusal(signed_in, signed_in.open(fill(rule, {"store_id": store.id}), method=method, json={}))
    ]
    assert refused == []


def test_a_valid_token_gets_past_the_check(csrf_app, signed_in, store):
    """Control for the refusals above: they come from the missing token, not from the harness.
    The same kind of request carrying the session's token is not refused."""
    token = csrf_token(signed_in, "/dev/mailbox")
    method, rule, _ = next(route for route in mutating_routes(csrf_app) if not exemption(route[1]))
    response = signed_in.open(fill(rule, {"store_id": store.id}), method=method, data={"csrf_token": token})
    assert not is_refusal(signed_in, response)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_button_posted_with_a_stale_token_goes_back_and_changes_nothing(csrf_app, signed_in, db, store, headers):
    """Two different button-only actions answer a stale token alike: back to the page the
    button was on, with the flash, and the key and the member are still there."""
    key, _ = create_api_key(db, store, name="Backend", created_by=None)
    member = add_member(db, store, make_user(db), role=Role.VIEWER)
    db.commit()
    base = f"http://localhost/dashboard/stores/{store.id}"
    buttons = [(f"{base}/api-keys/{key.id}/revoke", f"{base}/api-keys"), (f"{base}/team/{member.id}/remove", f"{base}/team")]
    for action, page in buttons:
        response = signed_in.post(action, data={"csrf_token": "stale"}, headers={**headers, "Referer": page})
        assert sent_back(signed_in, response) == page, action
    db.expire_all()
    assert db.scalar(sa.select(ApiKey.revoked_at)) is None
    assert db.get(StoreMember, member.id) is not None


def test_a_refused_post_never_goes_back_to_another_site(csrf_app, signed_in, store):
    for referrer in ("https://evil.example/dashboard", "http://localhost.evil.example/", "http://[::1", None):
        headers = {"Referer": referrer} if referrer else {}
        response = signed_in.post(f"/dashboard/stores/{store.id}/team/leave", data={"csrf_token": "x"}, headers=headers)
        assert sent_back(signed_in, response) == "/dashboard", referrer
