"""JSON API: /api/stores/<id>/api-keys — create (secret once), list, revoke."""
import pytest
import sqlalchemy as sa

from checkie.stores.api_keys import create_api_key
from checkie.stores.models import ApiKey, Role
from tests.factories import add_member, make_user
from tests.http import access_token_for, bearer

KEY_KEYS = {"id", "name", "prefix", "mode", "createdAt", "lastUsedAt", "revokedAt"}


def keys_url(store, key_id=None) -> str:
    return f"/api/stores/{store.id}/api-keys" + (f"/{key_id}" if key_id else "")


def test_create_returns_the_key_once(client, store, auth):
    response = client.post(keys_url(store), json={"name": "Backend"}, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == KEY_KEYS | {"key"}
    assert body["key"].startswith("ck_test_") and body["prefix"] == body["key"][:12] and body["mode"] == "test"
    assert body["lastUsedAt"] is None and body["revokedAt"] is None
    listing = client.get(keys_url(store), headers=auth).json
    assert [set(k) for k in listing["data"]] == [KEY_KEYS] and listing["nextCursor"] is None
    assert body["key"] not in str(listing)


def test_a_new_key_works_and_records_its_use(client, store, auth):
    raw = client.post(keys_url(store), json={"name": "Backend"}, headers=auth).json["key"]
    assert client.get(f"/api/stores/{store.id}", headers=bearer(raw)).status_code == 200
    [key] = client.get(keys_url(store), headers=auth).json["data"]
    assert key["lastUsedAt"] is not None


def test_revoke_is_an_empty_204_and_the_key_stops_working(client, db, user, store, auth):
    key, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    response = client.delete(keys_url(store, key.id), headers=auth)
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/stores", headers=bearer(raw)).status_code == 401
    [listed] = client.get(keys_url(store), headers=auth).json["data"]
    assert listed["revokedAt"] is not None
    assert client.delete(keys_url(store, key.id), headers=auth).status_code == 204  # idempotent
    assert client.delete(keys_url(store, 424242), headers=auth).status_code == 404


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "  "}, {"name": "x" * 101}, {"name": 5}])
def test_a_key_needs_a_name(client, store, auth, payload):
    response = client.post(keys_url(store), json=payload, headers=auth)
    assert response.status_code == 422 and "name" in response.json["error"]["fields"]


def test_admins_manage_keys_viewers_only_list(client, app, db, store):
    admin, viewer = make_user(db), make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    viewer_auth, admin_auth = bearer(access_token_for(app, viewer)), bearer(access_token_for(app, admin))
    assert client.get(keys_url(store), headers=viewer_auth).status_code == 200
    assert client.post(keys_url(store), json={"name": "Nope"}, headers=viewer_auth).status_code == 403
    created = client.post(keys_url(store), json={"name": "Admin's"}, headers=admin_auth)
    assert created.status_code == 201
    assert client.delete(keys_url(store, created.json["id"]), headers=viewer_auth).status_code == 403
    assert client.delete(keys_url(store, created.json["id"]), headers=admin_auth).status_code == 204


def test_an_api_key_cannot_list_create_or_revoke_keys(client, db, user, store):
    key, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    headers = bearer(raw)
    assert client.get(keys_url(store), headers=headers).status_code == 403
    assert client.post(keys_url(store), json={"name": "More"}, headers=headers).status_code == 403
    assert client.delete(keys_url(store, key.id), headers=headers).status_code == 403
    assert db.scalar(sa.select(sa.func.count(ApiKey.id))) == 1


def test_openapi_documents_every_status_these_endpoints_return(client):
    spec = client.get("/api/openapi.json").json
    expected = {
        ("/api/stores", "get"): {"200", "401"},
        ("/api/stores", "post"): {"201", "401", "403", "422"},
        ("/api/stores/{store_id}", "get"): {"200", "401", "404"},
        ("/api/stores/{store_id}", "patch"): {"200", "401", "403", "404", "422"},
        ("/api/stores/{store_id}", "delete"): {"204", "401", "403", "404"},
        ("/api/stores/{store_id}/stats", "get"): {"200", "401", "404"},
        ("/api/stores/{store_id}/members", "get"): {"200", "401", "403", "404"},
        ("/api/stores/{store_id}/members", "post"): {"201", "401", "403", "404", "422"},
        ("/api/stores/{store_id}/members/{member_id}", "patch"): {"200", "401", "403", "404", "422"},
        ("/api/stores/{store_id}/members/{member_id}", "delete"): {"204", "401", "403", "404"},
        ("/api/stores/{store_id}/api-keys", "get"): {"200", "401", "403", "404"},
        ("/api/stores/{store_id}/api-keys", "post"): {"201", "401", "403", "404", "422"},
        ("/api/stores/{store_id}/api-keys/{key_id}", "delete"): {"204", "401", "403", "404"},
    }
    for (path, method), statuses in expected.items():
        documented = set(spec["paths"][path][method]["responses"])
        assert statuses <= documented, (path, method, statuses - documented)
    assert "content" not in spec["paths"]["/api/stores/{store_id}"]["delete"]["responses"]["204"]
