"""JSON API: /api/stores/<id>/webhooks — endpoints (create, list, read, edit, delete, rotate the
secret, send a test event) and their delivery log (list, detail with attempts, resend, replay).

Deliveries go to a local receiver on 127.0.0.1; Huey runs in immediate mode, so a test event or
a resend is posted before the request that caused it answers (a retry is only scheduled)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from checkie.database import utcnow
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from checkie.webhooks.models import DeliveryStatus, WebhookEndpoint
from tests.factories import add_member, make_store, make_user, make_webhook_delivery, make_webhook_endpoint
from tests.http import access_token_for, bearer
from tests.webhooks.receiver import Answer, Receiver

ENDPOINT_KEYS = {"id", "url", "events", "description", "enabled", "createdAt"}
DELIVERY_KEYS = {"id", "eventId", "eventType", "status", "attempts", "lastStatusCode", "lastError", "nextAttemptAt", "createdAt"}
ATTEMPT_KEYS = {"at", "statusCode", "durationMs", "responseExcerpt", "error"}


@pytest.fixture
def other_store(db):
    store = make_store(db, name="Other Shop", slug="other")
    db.commit()
    return store


def url(store, *parts) -> str:
    return "/".join([f"/api/stores/{store.id}/webhooks", *(str(p) for p in parts)])


def create(client, store, auth, **body):
    payload = {"url": "http://127.0.0.1:9/hooks", "events": ["payment.completed"], **body}
    response = client.post(url(store), json=payload, headers=auth)
    assert response.status_code == 201, response.json
    return response.json


# ---------------------------------------------------------------- endpoints


def test_create_answers_the_endpoint_with_its_secret_once(client, store, auth):
    body = create(client, store, auth, url="https://hooks.example.com/checkie", description=" Orders ",
                  events=["payment.completed", "customer.created", "payment.completed"])
    assert set(body) == ENDPOINT_KEYS | {"secret"}
    assert body["secret"].startswith("whsec_")
    assert body["url"] == "https://hooks.example.com/checkie" and body["description"] == "Orders"
    assert body["events"] == ["payment.completed", "customer.created"] and body["enabled"] is True
    fetched = client.get(url(store, body["id"]), headers=auth).json
    assert fetched == {k: v for k, v in body.items() if k != "secret"}
    listed = client.get(url(store), headers=auth).json
    assert listed == {"data": [fetched], "nextCursor": None}
    assert body["secret"] not in json.dumps([fetched, listed])


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"url": "ftp://hooks.example.com/x"}, {"url"}),
        ({"url": "file:///etc/passwd"}, {"url"}),
        ({"url": "not a url"}, {"url"}),
        ({"url": ""}, {"url"}),
        ({"events": ["payment.exploded"]}, {"events"}),
        ({"events": ["ping"]}, {"events"}),
        ({"events": []}, {"events"}),
        ({"events": "payment.completed"}, {"events"}),
        ({"events": None}, {"events"}),
        ({"description": "x" * 501}, {"description"}),
        ({"url": "gopher://x", "events": ["nope"]}, {"url", "events"}),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_creates_nothing(client, db, store, auth, payload, fields):
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["payment.completed"], **payload}
    response = client.post(url(store), json=body, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert set(response.json["error"]["fields"]) == fields
    assert db.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


@pytest.mark.parametrize("address", ["http://127.0.0.1/hooks", "http://169.254.169.254/latest", "http://[::1]/x",
                                     "http://10.0.0.5/x", "https://evil@127.0.0.1/"])
def test_a_private_address_is_refused_when_private_urls_are_not_allowed(app, client, store, auth, monkeypatch, address):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    response = client.post(url(store), json={"url": address, "events": ["payment.completed"]}, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"url"}


def test_patch_changes_what_is_sent(client, store, auth):
    endpoint = create(client, store, auth)
    payload = {"url": "http://127.0.0.1:9/new", "events": ["customer.created"], "description": "CRM"}
    body = client.patch(url(store, endpoint["id"]), json=payload, headers=auth).json
    assert {k: body[k] for k in payload} == payload and body["enabled"] is True
    response = client.patch(url(store, endpoint["id"]), json={"events": ["nope"]}, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"events"}
    assert client.get(url(store, endpoint["id"]), headers=auth).json["events"] == ["customer.created"]


def test_disabling_and_enabling(client, store, auth):
    endpoint = create(client, store, auth)
    disabled = client.patch(url(store, endpoint["id"]), json={"enabled": False}, headers=auth).json
    assert disabled["enabled"] is False and disabled["disabledReason"] is None
    response = client.post(url(store, endpoint["id"], "test"), headers=auth)
    assert response.status_code == 409 and response.json["error"]["code"] == "endpoint_disabled"
    enabled = client.patch(url(store, endpoint["id"]), json={"enabled": True}, headers=auth).json
    assert enabled["enabled"] is True and "disabledReason" not in enabled
    response = client.patch(url(store, endpoint["id"]), json={"enabled": "no"}, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"enabled"}


def test_delete_removes_it_and_a_rotation_afterwards_is_a_404(client, store, auth):
    endpoint = create(client, store, auth)
    assert client.delete(url(store, endpoint["id"]), headers=auth).status_code == 204
    assert client.get(url(store, endpoint["id"]), headers=auth).status_code == 404
    response = client.post(url(store, endpoint["id"], "rotate-secret"), headers=auth)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.delete(url(store, endpoint["id"]), headers=auth).status_code == 404


def test_list_is_paginated_newest_first(client, store, auth):
    ids = [create(client, store, auth, description=f"n{n}")["id"] for n in range(3)]
    first = client.get(url(store), query_string={"limit": 2}, headers=auth).json
    assert [e["id"] for e in first["data"]] == ids[:0:-1] and first["nextCursor"]
    second = client.get(url(store), query_string={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json
    assert [e["id"] for e in second["data"]] == ids[:1] and second["nextCursor"] is None
    bad = client.get(url(store), query_string={"cursor": "!!"}, headers=auth)
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"cursor"}


# ---------------------------------------------------------------- secrets and the test event


def test_rotate_answers_a_new_secret_and_both_sign_for_a_while(client, store, auth, receiver):
    endpoint = create(client, store, auth, url=receiver.url)
    response = client.post(url(store, endpoint["id"], "rotate-secret"), headers=auth)
    assert response.status_code == 200 and set(response.json) == {"secret"}
    new_secret = response.json["secret"]
    assert new_secret.startswith("whsec_") and new_secret != endpoint["secret"]
    assert new_secret not in json.dumps(client.get(url(store, endpoint["id"]), headers=auth).json)
    assert client.post(url(store, endpoint["id"], "test"), headers=auth).status_code == 202
    (request,) = receiver.received
    for secret in (endpoint["secret"], new_secret):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "ping"


def test_a_test_event_shows_in_the_log_with_its_attempt(client, store, auth, receiver):
    endpoint = create(client, store, auth, url=receiver.url)
    response = client.post(url(store, endpoint["id"], "test"), headers=auth)
    assert response.status_code == 202 and set(response.json) == DELIVERY_KEYS
    assert response.json["eventType"] == "ping"
    (request,) = receiver.received
    sent = json.loads(request.body)
    assert sent["type"] == "ping" and sent["data"]["endpointId"] == endpoint["id"]
    listed = client.get(url(store, endpoint["id"], "deliveries"), headers=auth).json
    (delivery,) = listed["data"]
    assert delivery["id"] == response.json["id"] and delivery["eventId"] == sent["id"] == request.headers["webhook-id"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 1 and delivery["lastStatusCode"] == 200
    assert delivery["nextAttemptAt"] is None and delivery["lastError"] is None
    detail = client.get(url(store, endpoint["id"], "deliveries", delivery["id"]), headers=auth).json
    assert set(detail) == DELIVERY_KEYS | {"attemptLog"}
    (attempt,) = detail["attemptLog"]
    assert set(attempt) == ATTEMPT_KEYS
    assert attempt["statusCode"] == 200 and attempt["responseExcerpt"] == "ok" and attempt["error"] is None


def test_a_test_event_goes_to_that_endpoint_only(client, store, auth, receiver):
    endpoint = create(client, store, auth, url=receiver.url)
    other = create(client, store, auth, url=receiver.url + "/other")
    client.post(url(store, endpoint["id"], "test"), headers=auth)
    assert [r.path for r in receiver.received] == ["/hooks"]
    assert client.get(url(store, other["id"], "deliveries"), headers=auth).json["data"] == []


def test_a_failing_receiver_leaves_the_delivery_pending_with_its_error(client, store, auth, receiver):
    receiver.answer(Answer(status=500, body=b"boom"))
    endpoint = create(client, store, auth, url=receiver.url)
    delivery_id = client.post(url(store, endpoint["id"], "test"), headers=auth).json["id"]
    pending = client.get(url(store, endpoint["id"], "deliveries"), query_string={"status": "pending"}, headers=auth).json
    assert [d["id"] for d in pending["data"]] == [delivery_id]
    (delivery,) = pending["data"]
    assert delivery["attempts"] == 1 and delivery["lastStatusCode"] == 500 and delivery["nextAttemptAt"]
    succeeded = client.get(url(store, endpoint["id"], "deliveries"), query_string={"status": "succeeded"}, headers=auth)
    assert succeeded.json["data"] == []
    bad = client.get(url(store, endpoint["id"], "deliveries"), query_string={"status": "lost"}, headers=auth)
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"status"}
    detail = client.get(url(store, endpoint["id"], "deliveries", delivery_id), headers=auth).json
    assert [(a["statusCode"], a["responseExcerpt"]) for a in detail["attemptLog"]] == [(500, "boom")]


def test_the_delivery_log_is_paginated_newest_first(client, db, store, auth):
    endpoint = make_webhook_endpoint(db, store)
    ids = [make_webhook_delivery(db, endpoint).id for _ in range(3)]
    db.commit()
    first = client.get(url(store, endpoint.id, "deliveries"), query_string={"limit": 2}, headers=auth).json
    assert [d["id"] for d in first["data"]] == ids[:0:-1]
    second = client.get(url(store, endpoint.id, "deliveries"),
                        query_string={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json
    assert [d["id"] for d in second["data"]] == ids[:1] and second["nextCursor"] is None


# ---------------------------------------------------------------- resend and replay


def test_resend_sends_the_same_event_again_and_the_log_keeps_both_attempts(client, store, auth, receiver):
    endpoint = create(client, store, auth, url=receiver.url)
    delivery = client.post(url(store, endpoint["id"], "test"), headers=auth).json
    response = client.post(url(store, endpoint["id"], "deliveries", delivery["id"], "resend"), headers=auth)
    assert response.status_code == 202 and response.json["id"] == delivery["id"]
    assert receiver.event_ids() == [delivery["eventId"]] * 2
    detail = client.get(url(store, endpoint["id"], "deliveries", delivery["id"]), headers=auth).json
    assert [a["statusCode"] for a in detail["attemptLog"]] == [200, 200] and detail["status"] == "succeeded"


def test_replay_sends_the_failed_deliveries_since_a_time(client, db, store, auth, receiver):
    endpoint = make_webhook_endpoint(db, store, url=receiver.url)
    old = make_webhook_delivery(db, endpoint, created_at=utcnow() - timedelta(days=3))
    recent = [make_webhook_delivery(db, endpoint, created_at=utcnow() - timedelta(hours=h)) for h in (2, 1)]
    make_webhook_delivery(db, endpoint, status=DeliveryStatus.SUCCEEDED)
    db.commit()
    since = (utcnow() - timedelta(days=1)).isoformat()
    response = client.post(url(store, endpoint.id, "replay"), json={"since": since}, headers=auth)
    assert response.status_code == 200 and response.json == {"replayed": 2}
    assert sorted(receiver.event_ids()) == sorted(d.event_id for d in recent)
    failed = client.get(url(store, endpoint.id, "deliveries"), query_string={"status": "failed"}, headers=auth).json
    assert [d["id"] for d in failed["data"]] == [old.id]


@pytest.mark.parametrize("since", [None, "yesterday", "2026-13-01T00:00:00Z", 12])
def test_replay_needs_a_time(client, db, store, auth, since):
    endpoint = make_webhook_endpoint(db, store)
    db.commit()
    response = client.post(url(store, endpoint.id, "replay"), json={} if since is None else {"since": since}, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"since"}


def test_resend_and_replay_refuse_a_disabled_endpoint(client, db, store, auth):
    endpoint = make_webhook_endpoint(db, store)
    delivery = make_webhook_delivery(db, endpoint)
    endpoint.disable(reason="The endpoint answered 410 Gone.")
    db.commit()
    shown = client.get(url(store, endpoint.id), headers=auth).json
    assert shown["enabled"] is False and shown["disabledReason"] == "The endpoint answered 410 Gone."
    resend = client.post(url(store, endpoint.id, "deliveries", delivery.id, "resend"), headers=auth)
    replay = client.post(url(store, endpoint.id, "replay"), json={"since": "2000-01-01T00:00:00Z"}, headers=auth)
    assert resend.status_code == replay.status_code == 409


# ---------------------------------------------------------------- who may do what


def _every_route(endpoint_id: int, delivery_id: int) -> list[tuple[str, tuple, dict | None]]:
    return [
        ("POST", (), {"url": "http://127.0.0.1:9/x", "events": ["payment.completed"]}),
        ("PATCH", (endpoint_id,), {"description": "Changed"}),
        ("POST", (endpoint_id, "rotate-secret"), None),
        ("POST", (endpoint_id, "test"), None),
        ("POST", (endpoint_id, "deliveries", delivery_id, "resend"), None),
        ("POST", (endpoint_id, "replay"), {"since": "2000-01-01T00:00:00Z"}),
        ("DELETE", (endpoint_id,), None),
    ]


def test_a_viewer_reads_but_may_not_write(app, client, db, store):
    viewer = make_user(db, email="viewer@example.com")
    add_member(db, store, viewer, role=Role.VIEWER)
    endpoint = make_webhook_endpoint(db, store)
    delivery = make_webhook_delivery(db, endpoint)
    db.commit()
    secret = endpoint.secret_encrypted
    auth = bearer(access_token_for(app, viewer))
    for path in ((), (endpoint.id,), (endpoint.id, "deliveries"), (endpoint.id, "deliveries", delivery.id)):
        assert client.get(url(store, *path), headers=auth).status_code == 200, path
    for method, path, body in _every_route(endpoint.id, delivery.id):
        response = client.open(url(store, *path), method=method, json=body, headers=auth)
        assert response.status_code == 403, (method, path)
    db.expire_all()
    assert (endpoint.description, endpoint.secret_encrypted) == ("", secret)
    assert db.get(type(delivery), delivery.id).status is DeliveryStatus.FAILED
    assert db.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 1


def test_an_admin_and_an_api_key_manage_endpoints(app, client, db, store, user):
    admin = make_user(db, email="admin@example.com")
    add_member(db, store, admin, role=Role.ADMIN)
    _, raw_key = create_api_key(db, store, name="Ops", created_by=user)
    db.commit()
    for auth in (bearer(access_token_for(app, admin)), bearer(raw_key)):
        endpoint = create(client, store, auth)
        assert client.post(url(store, endpoint["id"], "rotate-secret"), headers=auth).status_code == 200
        assert client.delete(url(store, endpoint["id"]), headers=auth).status_code == 204


def test_another_stores_endpoints_and_deliveries_are_404(client, db, store, other_store, auth):
    theirs = make_webhook_endpoint(db, other_store)
    their_delivery = make_webhook_delivery(db, theirs)
    mine = make_webhook_endpoint(db, store)
    db.commit()
    for method, path, body in _every_route(theirs.id, their_delivery.id):
        assert client.open(url(other_store, *path), method=method, json=body, headers=auth).status_code == 404
        if path:
            assert client.open(url(store, *path), method=method, json=body, headers=auth).status_code == 404
    for path in ((theirs.id,), (theirs.id, "deliveries"), (mine.id, "deliveries", their_delivery.id)):
        assert client.get(url(store, *path), headers=auth).status_code == 404, path
    assert client.get(url(other_store), headers=auth).status_code == 404
    db.expire_all()
    assert theirs.description == "" and db.get(type(their_delivery), their_delivery.id).status is DeliveryStatus.FAILED


def test_no_token_is_a_401(client, store):
    assert client.get(url(store)).status_code == 401
    assert client.post(url(store), json={"url": "http://127.0.0.1:9/x", "events": ["payment.completed"]}).status_code == 401
