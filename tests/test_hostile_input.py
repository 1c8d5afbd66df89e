"""Hostile input is a 4xx, never a 5xx (issue 8): every route in the URL map, every method, gets
the whole corpus — JSON nested far too deep, NUL bytes and lone surrogates in path, query, form
and JSON strings, ids past BIGINT, 5,000-digit numbers, a body over MAX_CONTENT_LENGTH, wrong
content types and JSON that is not an object — anonymously, signed in to the dashboard, with
an API bearer token, and with a customer portal's bearer token.

The routes, their query parameters and their JSON bodies are read from the app (URL map and
OpenAPI document) when the test runs, so a new route is attacked the moment it exists. A valid
body is built for each route and one field at a time is made hostile, so a field that is
checked late (after its neighbours passed) still gets its turn."""
from __future__ import annotations

import itertools
import json
import re

import pytest
import sqlalchemy as sa
from werkzeug import Response
from werkzeug.routing import Rule

from checkie.catalog.models import Embed, Page
from checkie.catalog.pages import publish_page
from checkie.customers import portal
from checkie.customers.models import Customer, PortalLinkKind
from checkie.payments.models import Payment
from checkie.providers.stripe import sign_payload
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role, Store
from checkie.subscriptions.models import Subscription
from tests.api.subscribing import subscribe
from tests.factories import add_member, make_catalog, make_user
from tests.http import access_token_for, csrf_token, login

#: Query parameters the HTML views read (the API's come from its OpenAPI document).
HTML_QUERY_NAMES = ("q", "status", "state", "after", "before", "page", "block", "edit", "next", "origin", "from",
                    "to", "period", "review")
#: A form that most dashboard and storefront views accept; each field is made hostile in turn.
FORM = {
    "name": "Acme", "slug": "acme-two", "currency": "USD", "title": "Tea", "description": "Nice", "amount": "10.00",
    "pricing_type": "one_time", "email": "new@example.com", "password": "correct horse battery staple",
    "current_password": "correct horse battery staple", "role": "admin", "label": "Company", "key": "company",
    "type": "text", "code": "SAVE10", "kind": "percent", "percent_off": "10", "amount_off": "100",
    "duration": "once", "price_delta": "0", "max_redemptions": "5", "minimum_amount": "1.00", "interval_count": "1",
    "trial_days": "3", "help_text": "Help", "coupon_code": "SAVE10", "allowed_origins": "https://shop.example",
}
FORM_TEXT = ("name", "title", "email", "label", "code", "description")
FORM_NUMBERS = ("amount", "price_delta", "max_redemptions")
#: JSON bodies of the routes outside the OpenAPI document (widget, PSP webhooks).
PLAIN_JSON = {
    "email": "shopper@example.com", "name": "Sam", "sessionId": "cs_x", "code": "SAVE10", "couponCode": "SAVE10",
    "paymentMethod": "card", "pageId": 1, "variantOptions": {"1": 1}, "customFields": {"company": "Acme"},
    "id": "evt_1", "type": "payment_intent.succeeded",
}
DIGITS = "9" * 5000
BIG_IDS = (str(2**63), str(2**64), DIGITS)
PATH_VALUES = ("%00", "a%00b", "%ED%A0%80", "0", *BIG_IDS)
INT_PATH_VALUES = ("0", *BIG_IDS)
QUERY_VALUES = ("%00", "%ED%A0%80", "-1", str(2**63), DIGITS)
#: A lone surrogate as JSON writes it; Python's json module decodes it into an unencodable str.
SURROGATE = "\\ud800"
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def deep(depth: int, kind: str = "list") -> str:
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


#: Bodies sent to every route and method, whatever it expects: (content type, body).
RAW_BODIES = [
    ("application/json", deep(1000)),
    ("application/json", deep(1000, "object")),
    ("application/json", '{"name":"a\\u0000b","email":"a\\u0000@example.com"}'),
    ("application/json", '{"name":"' + SURROGATE + '","email":"x' + SURROGATE + '@example.com"}'),
    ("application/json", DIGITS),
    ("application/json", '{"amount":' + DIGITS + "}"),
    ("application/json", '{"amount":1e999,"pageId":NaN}'),
    ("application/json", '{"name":{"a":[1]},"email":["x@example.com"],"amount":[1.5]}'),
    ("application/json", "[]"),
    ("application/json", '"text"'),
    ("application/json", "{"),
    ("application/json", b"\xff\xfe{}"),
    ("text/plain", '{"name":"x"}'),
    ("application/x-www-form-urlencoded", deep(1000)),
    ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\x00b\r\n--x--\r\n"),
]


def spec_routes(client) -> dict:
    return client.get("/api/openapi.json").json


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(spec: dict, schema: dict):
    """A value the schema accepts, as far as a generic walk can tell."""
    schema = resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: example(spec, prop) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(spec, schema["items"])] if "items" in schema else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "email":
        return "x@example.com"
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "x"


def hostile_json_bodies(body) -> list[str]:
    """`body` as JSON with one leaf at a time made hostile: strings get NUL and a lone surrogate,
    numbers get ids past BIGINT and 5,000 digits."""
    bodies = []
    for path, leaf in leaves(body):
        replacements = ('"a\\u0000b"', f'"x{SURROGATE}"') if isinstance(leaf, str) else (str(2**63), str(2**64), DIGITS)
        for replacement in replacements:
            bodies.append(json.dumps(replace_at(body, path, "@@HOSTILE@@")).replace('"@@HOSTILE@@"', replacement))
    return bodies


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        yield path, value


def replace_at(value, path, replacement):
    if not path:
        return replacement
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replace_at(value[path[0]], path[1:], replacement)
    return copy


def url_for_rule(rule: Rule, ids: dict, hostile: tuple[str, str] | None = None) -> str:
    """The rule's path with real ids (1 or a made-up token where we have none); `hostile` puts
    a raw (already URL-encoded) value in one argument."""

    def value(match: re.Match) -> str:
        name, digits = match.group(2), match.group(1) == "int"
        if hostile and hostile[0] == name:
            return hostile[1]
        return str(ids.get(name if digits else f"{name}:text", ids.get(name, 1 if digits else f"test-{name}")))

    return _PLACEHOLDER.sub(value, rule.rule)


def operation(spec: dict, rule: Rule, method: str) -> dict:
    return spec["paths"].get(_PLACEHOLDER.sub(r"{\2}", rule.rule), {}).get(method.lower(), {})


def path_requests(rule: Rule, ids: dict) -> list[dict]:
    """Each path variable in turn hostile (ids past BIGINT only where the converter takes digits)."""
    return [{"path": url_for_rule(rule, ids, (name, value))} for converter, name in _PLACEHOLDER.findall(rule.rule)
            for value in (INT_PATH_VALUES if converter == "int" else PATH_VALUES)]


def query_and_body_requests(spec: dict, rule: Rule, method: str, ids: dict) -> list[dict]:
    """The query string hostile (all parameters at once, and each documented one alone), then
    every raw body."""
    base = url_for_rule(rule, ids)
    names = [p["name"] for p in operation(spec, rule, method).get("parameters", []) if p["in"] == "query"]
    requests = []
    for value in QUERY_VALUES:
        requests.append({"path": base, "query_string": "&".join(f"{n}={value}" for n in names or HTML_QUERY_NAMES)})
        requests.extend({"path": base, "query_string": f"{name}={value}"} for name in names if len(names) > 1)
    bodies = RAW_BODIES if method != "GET" else RAW_BODIES[:1] + RAW_BODIES[2:4]
    requests.extend({"path": base, "data": body, "content_type": kind} for kind, body in bodies)
    return requests


def probe_request(spec: dict, rule: Rule, method: str, ids: dict, form_extra: dict) -> dict:
    """A request the route should accept: its real ids and, unless a GET, a valid-looking body."""
    base = url_for_rule(rule, ids)
    if method == "GET":
        return {"path": base}
    if rule.rule.startswith("/api/"):
        return {"path": base, "json": json_example(spec, rule, method, ids)}
    return {"path": base, "data": {**FORM, **form_extra}}


def json_example(spec: dict, rule: Rule, method: str, ids: dict):
    schema = operation(spec, rule, method).get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return example(spec, schema) if schema else {**PLAIN_JSON, "sessionId": ids["session_id"], "pageId": ids["page_id"]}


def field_requests(spec: dict, rule: Rule, method: str, ids: dict, form_extra: dict) -> list[dict]:
    """The probe's body with one field at a time hostile."""
    base = url_for_rule(rule, ids)
    if rule.rule.startswith("/api/"):
        bodies = hostile_json_bodies(json_example(spec, rule, method, ids))
        return [{"path": base, "data": text, "content_type": "application/json"} for text in bodies]
    forms = [{**FORM, name: "a\x00b"} for name in FORM_TEXT] + [{**FORM, name: DIGITS} for name in FORM_NUMBERS]
    return [{"path": base, "data": {**form, **form_extra}} for form in forms]


def reached(response) -> bool:
    """Whether the caller got to the view's input handling: signed in, allowed, the object exists."""
    location = response.headers.get("Location") or ""
    return response.status_code not in (401, 403, 404, 405) and not (response.status_code in (302, 303) and "/login" in location)


def destructive(rule: Rule, method: str) -> tuple[bool, bool]:
    """Sort key: what may end the session or delete the store goes last, the account last of all."""
    ends_account = rule.endpoint in {"auth.logout", "account.delete", "api_users.Me", "account.change_password",
                                     "api_portal.sign_out"}
    words = ("delete", "remove", "leave", "revoke", "logout", "archive", "password")
    return ends_account and method != "GET", method == "DELETE" or any(w in rule.endpoint.lower() for w in words)


class Caller:
    """A client with what it sends on every request: credentials, and the CSRF token forms carry."""

    def __init__(self, client, *, headers: dict | None = None, csrf: str | None = None):
        self.client, self.headers = client, dict(headers or {})
        self.form_extra = {"csrf_token": csrf} if csrf else {}
        if csrf:
            self.headers["X-CSRFToken"] = csrf


def anonymous(client) -> Caller:
    return Caller(client, csrf=csrf_token(client, "/login"))


def walk(app, caller: Caller, prefixes: tuple[str, ...], ids: dict, *, public: Caller | None = None):
    """Send the corpus to every route under `prefixes`: the path corpus always, the rest where
    the caller gets through, except routes that let `public` (anonymous) in, which its own walk
    attacks. Returns (requests sent, the 5xx found)."""
    spec = spec_routes(caller.client)
    routes = [(rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith(prefixes)
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    routes.sort(key=lambda route: destructive(*route))
    addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 255), repeat=3))
    results = []

    def attack(method, request, who: Caller = caller):
        response = send(who.client, method, request, who.headers, next(addresses))
        results.append((response.status_code, method, request))
        return response

    for rule, method in routes:
        for request in path_requests(rule, ids):
            attack(method, request)
        if public and reached(attack(method, probe_request(spec, rule, method, ids, public.form_extra), public)):
            continue
        if not reached(attack(method, probe_request(spec, rule, method, ids, caller.form_extra))):
            continue
        for request in query_and_body_requests(spec, rule, method, ids):
            attack(method, request)
        if method != "GET":
            for request in field_requests(spec, rule, method, ids, caller.form_extra):
                attack(method, request)
    return len(results), [(status, method, _describe(r)) for status, method, r in results if status >= 500]


def send(client, method: str, request: dict, headers: dict | None, address: str):
    """The status, reading the whole body (a streamed answer may fail half-way): an exception
    escaping the app, or a stream cut short, counts as a 500."""
    try:
        response = client.open(method=method, headers=headers, environ_base={"REMOTE_ADDR": address}, **request)
        response.get_data()
    except Exception as error:  # noqa: BLE001  (anything escaping the app is the failure being counted)
        return Response(repr(error)[:200], status=599)
    return response


def _describe(request: dict) -> str:
    text = repr({k: v for k, v in request.items() if k != "path"})
    return request["path"][:80] + " " + text[:120]


def report(failures: list) -> str:
    lines = sorted({f"{status} {method} {description}" for status, method, description in failures})
    return f"{len(failures)} 5xx:\n" + "\n".join(lines[:60])


@pytest.fixture
def no_propagation(app, monkeypatch):
    """An exception escaping a view answers 500, as in production, instead of raising here."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


@pytest.fixture
def owned(db, user, store):
    key, _ = create_api_key(db, store, name="Walk key", created_by=user)
    member = add_member(db, store, make_user(db, email="viewer@example.com"), role=Role.VIEWER)
    ids = {"store_id": store.id, "key_id": key.id, "member_id": member.id, **make_catalog(db, store)}
    page, embed = db.get(Page, ids["page_id"]), db.get(Embed, ids["embed_id"])
    publish_page(db, page)
    db.commit()
    subscription = subscribe(db, store)
    ids["subscription_id"] = subscription.id
    _, ids["token"] = portal.issue_link(db, db.get_one(Customer, subscription.customer_id), kind=PortalLinkKind.REQUESTED)
    db.commit()
    return {**ids, "store_slug": store.slug, "page_slug": page.slug, "public_id": embed.public_id,
            "embed_id:text": embed.public_id}


@pytest.mark.usefixtures("no_propagation")
def test_no_route_answers_hostile_input_with_a_5xx_anonymously(app, client, owned):
    sent, failures = walk(app, anonymous(client), ("/",), owned)
    assert sent > 1500, "the walk no longer reaches the views"
    assert not failures, report(failures)


@pytest.mark.usefixtures("no_propagation")
def test_no_signed_in_html_route_answers_hostile_input_with_a_5xx(app, client, user, owned):
    login(client, user)
    caller = Caller(client, csrf=csrf_token(client, f"/dashboard/stores/{owned['store_id']}"))
    prefixes = tuple({"/" + rule.rule.split("/")[1] for rule in app.url_map.iter_rules()} - {"/api"})
    sent, failures = walk(app, caller, prefixes, owned, public=anonymous(app.test_client()))
    assert sent > 1500, "the walk no longer reaches the views"
    assert not failures, report(failures)


def test_the_walk_has_a_real_id_for_every_api_path_argument(app, owned):
    """Otherwise the walk's probe of a route is a 404 and its body is never attacked (a webhook
    endpoint and its delivery come from make_catalog, like every other object; a subscription is
    started by a real checkout)."""
    arguments = {name for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/") for name in rule.arguments}
    assert arguments - set(owned) == set()
    assert {"endpoint_id", "delivery_id", "payout_id", "subscription_id"} <= arguments


@pytest.mark.usefixtures("no_propagation")
def test_no_api_route_answers_hostile_input_with_a_5xx_to_a_bearer(app, client, user, owned):
    caller = Caller(client, headers={"Authorization": f"Bearer {access_token_for(app, user)}"})
    sent, failures = walk(app, caller, ("/api/",), owned, public=anonymous(app.test_client()))
    assert sent > 1500, "the walk no longer reaches the views"
    assert not failures, report(failures)


@pytest.mark.usefixtures("no_propagation")
def test_no_portal_route_answers_hostile_input_with_a_5xx_to_a_portal_bearer(app, client, db, owned):
    """As the subscription's customer, with their own payment as `payment_id` and every portal
    action allowed (so the probes get through to the input handling); the link in `owned` is
    theirs, used up by the sign-in here. Signing out goes last."""
    subscription = db.get_one(Subscription, owned["subscription_id"])
    db.get_one(Store, subscription.store_id).portal_allow_pause = True
    _, raw = portal.sign_in(db, owned["token"])
    db.commit()
    payment = db.scalar(sa.select(Payment.id).where(Payment.customer_id == subscription.customer_id).limit(1))
    caller = Caller(client, headers={"Authorization": f"Bearer {raw}"})
    sent, failures = walk(app, caller, ("/api/portal/",), {**owned, "payment_id": payment},
                          public=anonymous(app.test_client()))
    assert sent > 150, "the walk no longer reaches the views"
    assert not failures, report(failures)


def test_a_signed_psp_event_nested_too_deep_is_a_400(app, client):
    body = deep(1000, "object").encode()
    signature = sign_payload(body, app.config["TEST_PROVIDER_WEBHOOK_SECRET"])
    response = client.post("/api/webhooks/test", data=body, content_type="application/json",
                           headers={"Stripe-Signature": signature})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_payload"


def test_an_unsigned_psp_event_is_judged_by_its_signature_alone(client):
    response = client.post("/api/webhooks/test", data=deep(1000, "object"), content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_signature"


def test_a_body_over_max_content_length_is_a_413_on_every_route(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url_for_rule(rule, {}), method=method, data="x" * 1001, content_type="text/plain")
            assert response.status_code == 413, (method, rule.rule, response.status_code)
            if rule.rule.startswith("/api/"):
                assert response.json["error"]["code"] == "payload_too_large"
            else:
                assert "<html" in response.get_data(as_text=True)


def test_the_default_limit_refuses_ten_megabytes_before_parsing(client):
    body = json.dumps({"email": "x@example.com", "password": "p" * 10_000_000})
    assert client.post("/api/auth/login", data=body, content_type="application/json").status_code == 413
    assert client.post("/login", data={"email": "x@example.com", "password": "p" * 10_000_000}).status_code == 413


def test_json_nested_too_deep_is_a_400_in_the_api_error_shape(client):
    response = client.post("/api/auth/login", data=deep(1000, "object"), content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": {"code": "bad_request", "message": "JSON may nest at most 32 levels."}}


@pytest.mark.parametrize("text", ["a\\u0000b", SURROGATE])
def test_unstorable_text_in_json_is_a_422_naming_the_field(client, text):
    body = '{"email":"x@example.com","password":"correct horse battery","pricing":{"name":"' + text + '"}}'
    response = client.post("/api/auth/register", data=body, content_type="application/json")
    assert response.status_code == 422 and response.json["error"]["code"] == "validation_error"
    assert set(response.json["error"]["fields"]) == {"pricing.name"}


def test_a_stranger_gets_a_401_whatever_they_send(client):
    response = client.get("/api/stores?limit=" + DIGITS, data=deep(1000), content_type="application/json")
    assert response.status_code == 401


def test_json_that_is_not_an_object_is_a_422(client):
    response = client.post("/api/widget/checkout", data="[1]", content_type="application/json")
    assert response.status_code == 422
    assert response.json["error"] == {"code": "validation_error", "message": "Send a JSON object."}


def test_a_nul_in_a_csv_export_filter_is_a_422_before_streaming(app, client, user, store):
    login(client, user)
    response = client.get(f"/dashboard/stores/{store.id}/payments/export.csv?q=a%00b")
    assert response.status_code == 422
    assert "<html" in response.get_data(as_text=True)
    token = access_token_for(app, user)
    response = client.get(f"/api/stores/{store.id}/payments/export?email=a%00b", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"email"}


@pytest.mark.parametrize("store_id", [str(2**63), str(2**64), DIGITS, "0"])
def test_an_id_past_bigint_matches_no_route(client, user, store_id):
    login(client, user)
    assert client.get(f"/dashboard/stores/{store_id}").status_code == 404
    token = access_token_for(client.application, user)
    assert client.get(f"/api/stores/{store_id}", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_json_posted_to_a_form_is_a_415(client):
    response = client.post("/login", json={"email": "x@example.com"})
    assert response.status_code == 415
