"""JSON API: /api/stores — list, create, read, update, delete, stats."""
import pytest
import sqlalchemy as sa

from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role, Store
from tests.factories import add_member, make_payment, make_store, make_user
from tests.http import access_token_for, bearer

STORE_KEYS = {
    "id", "name", "slug", "currency", "role", "notifyNewSale", "portalAllowCancel", "portalAllowPause", "brandColor", "createdAt",
}


def test_every_store_endpoint_needs_a_token(client, store):
    for method, url in [("get", "/api/stores"), ("post", "/api/stores"), ("get", f"/api/stores/{store.id}"),
                        ("patch", f"/api/stores/{store.id}"), ("delete", f"/api/stores/{store.id}"),
                        ("get", f"/api/stores/{store.id}/stats")]:
        response = getattr(client, method)(url, json={})
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized", (method, url)


def test_list_shows_the_callers_stores_with_their_roles(client, db, app, user, store):
    other = make_store(db, name="Other Shop", slug="other")
    add_member(db, other, user, role=Role.VIEWER)
    make_store(db, name="Not mine", slug="not-mine")
    db.commit()
    response = client.get("/api/stores", headers=bearer(access_token_for(app, user)))
    assert response.status_code == 200 and response.json["nextCursor"] is None
    assert [(s["slug"], s["role"]) for s in response.json["data"]] == [("other", "viewer"), ("acme", "owner")]
    assert set(response.json["data"][0]) == STORE_KEYS


def test_list_paginates_with_limit_and_cursor(client, db, user, auth):
    for n in range(3):
        make_store(db, owner=user, name=f"Shop {n}", slug=f"shop-{n}")
    db.commit()
    first = client.get("/api/stores?limit=2", headers=auth).json
    assert [s["slug"] for s in first["data"]] == ["shop-2", "shop-1"] and first["nextCursor"]
    second = client.get(f"/api/stores?limit=2&cursor={first['nextCursor']}", headers=auth).json
    assert [s["slug"] for s in second["data"]] == ["shop-0"] and second["nextCursor"] is None
    assert client.get("/api/stores?limit=0", headers=auth).status_code == 422


@pytest.mark.parametrize("text", ["%%%", "ünï", "wrI", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "MA", "LTE"])
def test_forged_cursors_are_422_not_500(client, store, auth, text):
    """Not base64; base64 of "²" (a digit to str.isdigit); of 10**29 - 1 (past BIGINT); of "0"; of "-1"."""
    for url in ("/api/stores", f"/api/stores/{store.id}/members", f"/api/stores/{store.id}/api-keys"):
        response = client.get(url, query_string={"cursor": text}, headers=auth)
        assert response.status_code == 422 and "cursor" in response.json["error"]["fields"], (url, text)


def test_patch_without_a_body_changes_nothing(client, store, auth):
    response = client.patch(f"/api/stores/{store.id}", headers=auth)
    assert response.status_code == 200 and response.json["name"] == "Acme Goods"


def test_an_api_key_lists_only_its_own_store_as_admin(client, db, user, store):
    make_store(db, owner=user, name="Second", slug="second")
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    response = client.get("/api/stores", headers=bearer(raw))
    assert response.status_code == 200
    assert [(s["id"], s["role"]) for s in response.json["data"]] == [(store.id, "admin")]


def test_create_store(client, db, user, auth):
    response = client.post("/api/stores", json={"name": "Café Central", "currency": "EUR"}, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == STORE_KEYS
    assert (body["name"], body["slug"], body["currency"], body["role"]) == ("Café Central", "cafe-central", "EUR", "owner")
    assert db.get(Store, body["id"]).owner_id == user.id
    explicit = client.post("/api/stores", json={"name": "X", "slug": "my-x", "currency": "USD"}, headers=auth)
    assert explicit.status_code == 201 and explicit.json["slug"] == "my-x"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "Acme", "currency": "XYZ"}, "currency"),
        ({"name": "Acme", "currency": "USD", "slug": "Bad Slug"}, "slug"),
        ({"name": "Acme", "currency": "USD", "slug": "acme"}, "slug"),
        ({"name": "   ", "currency": "USD"}, "name"),
        ({"currency": "USD"}, "name"),
        ({"name": "Acme", "currency": "USD", "extra": 1}, "extra"),
    ],
)
def test_create_store_validation_errors_name_the_field(client, store, auth, payload, field):
    response = client.post("/api/stores", json=payload, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error" and field in response.json["error"]["fields"]


def test_an_api_key_cannot_create_stores(client, db, user, store):
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    response = client.post("/api/stores", json={"name": "Acme", "currency": "USD"}, headers=bearer(raw))
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_read_a_store_and_its_stats(client, store, auth):
    response = client.get(f"/api/stores/{store.id}", headers=auth)
    assert response.status_code == 200 and response.json["slug"] == "acme" and response.json["role"] == "owner"
    stats = client.get(f"/api/stores/{store.id}/stats", headers=auth)
    assert stats.status_code == 200
    assert stats.json == {
        "payments": 0, "revenue": [], "conversionRate": 0.0, "pageViews": 0, "checkoutSessions": 0, "conversions": 0
    }


def test_admins_and_api_keys_update_viewers_cannot(client, app, db, user, store):
    admin, viewer = make_user(db), make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    add_member(db, store, viewer, role=Role.VIEWER)
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    url = f"/api/stores/{store.id}"
    response = client.patch(url, json={"name": "Renamed", "currency": "GBP"}, headers=bearer(access_token_for(app, admin)))
    assert response.status_code == 200
    assert (response.json["name"], response.json["currency"], response.json["role"]) == ("Renamed", "GBP", "admin")
    by_key = client.patch(url, json={"slug": "renamed"}, headers=bearer(raw))
    assert by_key.status_code == 200 and by_key.json["slug"] == "renamed"
    denied = client.patch(url, json={"name": "Nope"}, headers=bearer(access_token_for(app, viewer)))
    assert denied.status_code == 403
    db.expire_all()
    assert (store.name, store.slug) == ("Renamed", "renamed")


def test_update_validation_errors(client, db, user, store, auth):
    make_store(db, owner=user, name="Taken", slug="taken")
    db.commit()
    for payload, field in [({"slug": "taken"}, "slug"), ({"currency": "ABC"}, "currency"), ({"name": ""}, "name")]:
        response = client.patch(f"/api/stores/{store.id}", json=payload, headers=auth)
        assert response.status_code == 422 and field in response.json["error"]["fields"], payload


def test_only_the_owner_deletes_and_the_answer_is_an_empty_204(client, app, db, user, store, auth):
    admin = make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    url = f"/api/stores/{store.id}"
    assert client.delete(url, headers=bearer(access_token_for(app, admin))).status_code == 403
    by_key = client.delete(url, headers=bearer(raw))
    assert by_key.status_code == 403 and "API key" in by_key.json["error"]["message"]
    response = client.delete(url, headers=auth)
    assert response.status_code == 204 and response.data == b""
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 0
    assert client.get(url, headers=auth).status_code == 404


def test_a_store_that_has_taken_payments_cannot_be_deleted(client, db, store, auth):
    make_payment(db, store)
    db.commit()
    response = client.delete(f"/api/stores/{store.id}", headers=auth)
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"
    assert client.get(f"/api/stores/{store.id}", headers=auth).status_code == 200


def test_portal_settings_default_change_and_clear(client, db, store, auth):
    url = f"/api/stores/{store.id}"
    defaults = client.get(url, headers=auth).json
    assert (defaults["portalAllowCancel"], defaults["portalAllowPause"], defaults["brandColor"]) == (True, False, None)
    changed = client.patch(url, json={"portalAllowCancel": False, "portalAllowPause": True, "brandColor": "#4F46E5"},
                           headers=auth)
    assert changed.status_code == 200
    assert (changed.json["portalAllowCancel"], changed.json["portalAllowPause"], changed.json["brandColor"]) == (
        False, True, "#4f46e5")
    renamed = client.patch(url, json={"name": "Acme Again"}, headers=auth).json
    assert renamed["brandColor"] == "#4f46e5" and renamed["portalAllowPause"] is True
    assert client.patch(url, json={"brandColor": None}, headers=auth).json["brandColor"] is None
    db.expire_all()
    assert (store.portal_allow_cancel, store.portal_allow_pause, store.brand_color) == (False, True, None)


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#gggggg", "4f46e5", "#4f46e5;x", 5])
def test_a_bad_brand_colour_is_a_422_on_the_field(client, db, store, auth, color):
    response = client.patch(f"/api/stores/{store.id}", json={"brandColor": color}, headers=auth)
    assert response.status_code == 422 and "brandColor" in response.json["error"]["fields"]
    db.expire_all()
    assert store.brand_color is None


def test_portal_permissions_must_be_booleans(client, store, auth):
    response = client.patch(f"/api/stores/{store.id}", json={"portalAllowPause": "yes"}, headers=auth)
    assert response.status_code == 422 and "portalAllowPause" in response.json["error"]["fields"]
