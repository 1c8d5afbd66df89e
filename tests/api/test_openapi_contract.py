"""The JSON APIs keep the promises of their OpenAPI document (/api/openapi.json): the merchant
API, the public widget API and the PSP webhooks.

Schemathesis generates requests for every documented operation, valid and invalid, and checks
each answer: no 5xx, a documented status code and content type, a body matching the documented
schema, invalid input rejected, and authentication enforced (it probes each operation without
and with a bad token itself). Requests go to the WSGI app in process and carry a real user's
access token; path ids point at real rows of a store the user owns (a member, an API key, a
page with a variant, an option and a custom field, an embed, a coupon; for the widget, a
published page, an open checkout session and an embed of that page; a webhook endpoint on a
closed loopback port with a failed delivery; a subscription that is not canceled; for the customer
portal, that subscription's customer's portal token, payment and subscription) most of the time,
so the happy paths run as well as the 404s. Host names do not resolve here and only loopback connects, so no generated webhook
endpoint is ever posted to outside the machine. The PSP webhooks answer every generated event
with a 400 (nobody can sign it), which is what their document promises for it.

Some operations destroy what later cases need (DELETE /api/users/me, DELETE /api/stores/{id},
a password change that ends the token's session, publishing the draft page, paying for or
abandoning the checkout session). After any write that succeeded, `ApiWorld.ensure` checks
every row again, recreates whatever is gone and mints a token for the user's current session.

Every case is derandomized, so each run sends the same requests: schemathesis' coverage phase
(the boundaries and wrong types of every field, missing and malformed parts) and MAX_EXAMPLES
fuzzed cases per operation; about a minute for the whole document on a 2-core machine (the
widget and the webhooks take about 10 s of it).
CHECKIE_CONTRACT_COVERAGE=0 skips the coverage phase for a quicker run while iterating."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from checkie.extensions import limiter
from tests.api.contract import MAX_EXAMPLES, USER_TOKEN, ApiWorld, schema
from tests.webhooks.network import record_connections, stub_dns


@pytest.fixture
def api_world(app, monkeypatch):
    # Rate limits have tests of their own; here a 429 would only hide the answers to check.
    monkeypatch.setattr(limiter, "enabled", False)
    # Generated webhook endpoints may name any host, and their test events are posted at once:
    # names do not resolve and only loopback connects, so no case reaches the internet.
    stub_dns(monkeypatch, {"localhost": [["127.0.0.1"]]})
    record_connections(monkeypatch)
    return ApiWorld(app)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_openapi_document(case, api_world):
    token = api_world.ensure()
    if case.path.startswith("/api/portal/"):
        token = api_world.portal_token
    if case.headers and case.headers.get("Authorization") == USER_TOKEN:
        case.headers["Authorization"] = f"Bearer {token}"
    api_world.point_ids(case)
    # Schema-valid input can still break a business rule (a wrong password, a taken slug, a
    # cursor from nowhere): the API answers 422 by design, which positive_data_acceptance flags.
    try:
        response = case.call_and_validate(app=api_world.app, excluded_checks=[positive_data_acceptance])
    except BaseException:
        api_world.dirty = True
        raise
    api_world.after(case, response)


#: Bodies that are not JSON, or not a JSON object: the API must refuse them with a 4xx error in
#: its documented shape, never crash. (Explicit, and on every operation, because a crash here
#: once took down every endpoint with a body, through the shared error handler.)
MALFORMED_BODIES = [b"{", b"\x00", b"\xff\xfe", b"[]", b"0"]


def _body_operations() -> list[tuple[str, str]]:
    raw = schema.raw_schema["paths"]
    return [(method.upper(), path) for path, ops in raw.items() for method, op in ops.items()
            if isinstance(op, dict) and "requestBody" in op]


def test_malformed_json_bodies_are_refused_with_a_client_error(app, api_world):
    operations = _body_operations()
    assert operations, "the document lists no operation with a request body"
    client = app.test_client()
    problems = []
    for method, path in operations:
        token = api_world.ensure()
        url = api_world.url(path)
        for body in MALFORMED_BODIES:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            try:
                response = client.open(url, method=method, data=body, headers=headers)
            except Exception as error:  # the test client re-raises what the app did not handle
                problems.append(f"{method} {path} with {body!r}: crashed with {error!r}")
                continue
            error = (response.get_json(silent=True) or {}).get("error")
            if not 400 <= response.status_code < 500 or not isinstance(error, dict) or "code" not in error:
                answer = response.get_data(as_text=True)[:120]
                problems.append(f"{method} {path} with {body!r}: {response.status_code} {answer}")
            api_world.after_status(method, response.status_code)
    assert problems == []
