"""JSON API: /api/stores/<id>/pages/<pageId>/custom-fields — list, create, read, update, delete, reorder."""
import pytest
import sqlalchemy as sa

from checkie.catalog.models import CustomField
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_field, make_page, make_store, make_user, open_checkouts
from tests.http import access_token_for, bearer

FIELD_KEYS = {"id", "key", "label", "type", "required", "options", "helpText", "position"}


@pytest.fixture
def page(db, store):
    page = make_page(db, store, publish=True)
    db.commit()
    return page


def url(page, suffix: str = "") -> str:
    return f"/api/stores/{page.store_id}/pages/{page.id}/custom-fields{suffix}"


def test_create_answers_201_with_the_field(client, page, auth):
    response = client.post(url(page), json={
        "label": "T-shirt size", "type": "select", "required": True, "options": ["S", "M", "L"], "helpText": "EU sizes",
    }, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == FIELD_KEYS
    assert body["key"] == "t_shirt_size" and body["type"] == "select" and body["required"] is True
    assert body["options"] == ["S", "M", "L"] and body["helpText"] == "EU sizes" and body["position"] == 0


def test_create_with_an_explicit_key_and_defaults(client, page, auth):
    body = client.post(url(page), json={"key": "company", "label": "Company name", "type": "text"}, headers=auth).json
    assert (body["key"], body["required"], body["options"], body["helpText"]) == ("company", False, None, None)


def test_list_answers_the_fields_in_order(client, db, page, auth):
    a, b = make_field(db, page, label="A"), make_field(db, page, label="B")
    db.commit()
    listing = client.get(url(page), headers=auth).json
    assert [f["id"] for f in listing["data"]] == [a.id, b.id] and listing["nextCursor"] is None
    assert client.get(url(page, f"/{b.id}"), headers=auth).json["key"] == "b"


@pytest.mark.parametrize("payload, field", [
    ({"type": "text"}, "label"),
    ({"label": "", "type": "text"}, "label"),
    ({"label": "   ", "type": "text"}, "label"),
    ({"label": "A", "type": "colour"}, "type"),
    ({"label": "A"}, "type"),
    ({"label": "A", "type": "text", "key": "Not Snake"}, "key"),
    ({"label": "A", "type": "text", "key": "k" * 41}, "key"),
    ({"label": "A", "type": "select"}, "options"),
    ({"label": "A", "type": "select", "options": ["X", "x"]}, "options"),
    ({"label": "A", "type": "text", "options": ["X"]}, "options"),
    ({"label": "A", "type": "text", "helpText": "h" * 301}, "helpText"),
    ({"label": "A", "type": "text", "required": "sometimes"}, "required"),
])
def test_create_refuses_invalid_fields_with_422(client, db, page, auth, payload, field):
    response = client.post(url(page), json=payload, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error" and field in response.json["error"]["fields"]
    assert db.scalar(sa.select(sa.func.count(CustomField.id))) == 0


def test_keys_are_unique_per_page(client, db, page, auth):
    make_field(db, page, label="Company")
    db.commit()
    response = client.post(url(page), json={"key": "company", "label": "Firm", "type": "text"}, headers=auth)
    assert response.status_code == 422 and "key" in response.json["error"]["fields"]
    derived = client.post(url(page), json={"label": "Company", "type": "text"}, headers=auth)
    assert derived.json["key"] == "company_2"


def test_patch_changes_what_is_sent(client, db, page, auth):
    field = make_field(db, page, label="Size", type="select", options=["S"], required=True)
    db.commit()
    response = client.patch(url(page, f"/{field.id}"), json={"label": "Shirt size", "options": ["S", "M"]}, headers=auth)
    assert response.status_code == 200
    assert (response.json["label"], response.json["options"], response.json["required"]) == ("Shirt size", ["S", "M"], True)
    response = client.patch(url(page, f"/{field.id}"), json={"type": "text", "key": "shirt"}, headers=auth)
    assert (response.json["type"], response.json["options"], response.json["key"]) == ("text", None, "shirt")


def test_patch_refuses_invalid_changes(client, db, page, auth):
    field = make_field(db, page, label="Size")
    db.commit()
    for payload, name in (({"type": "select"}, "options"), ({"key": "Bad Key"}, "key"), ({"label": ""}, "label")):
        response = client.patch(url(page, f"/{field.id}"), json=payload, headers=auth)
        assert response.status_code == 422 and name in response.json["error"]["fields"], payload


def test_once_the_page_has_sessions_keys_are_frozen_and_fields_stay(client, db, page, auth):
    field = make_field(db, page, label="Company")
    open_checkouts(db, page)
    db.commit()
    response = client.patch(url(page, f"/{field.id}"), json={"key": "org"}, headers=auth)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "key_locked" and "checkout sessions" in response.json["error"]["message"]
    assert client.patch(url(page, f"/{field.id}"), json={"label": "Organisation", "key": "company"}, headers=auth).status_code == 200
    response = client.delete(url(page, f"/{field.id}"), headers=auth)
    assert response.status_code == 409 and response.json["error"]["code"] == "field_in_use"
    assert client.get(url(page, f"/{field.id}"), headers=auth).json["label"] == "Organisation"


def test_delete_is_an_empty_204(client, db, page, auth):
    field = make_field(db, page)
    db.commit()
    response = client.delete(url(page, f"/{field.id}"), headers=auth)
    assert response.status_code == 204 and response.data == b""
    assert client.get(url(page), headers=auth).json["data"] == []
    assert client.delete(url(page, f"/{field.id}"), headers=auth).status_code == 404


def test_reorder_answers_the_ordered_list(client, db, page, auth):
    a, b, c = (make_field(db, page, label=label) for label in "ABC")
    db.commit()
    response = client.patch(url(page, "/reorder"), json={"ids": [c.id, a.id, b.id]}, headers=auth)
    assert response.status_code == 200
    assert [f["key"] for f in response.json["data"]] == ["c", "a", "b"]
    assert [f["position"] for f in response.json["data"]] == [0, 1, 2]
    assert [f["key"] for f in client.get(url(page), headers=auth).json["data"]] == ["c", "a", "b"]


@pytest.mark.parametrize("ids", ["subset", "duplicate", "unknown", "strings"])
def test_reorder_needs_exactly_the_pages_ids(client, db, page, auth, ids):
    a, b = make_field(db, page, label="A"), make_field(db, page, label="B")
    db.commit()
    sent = {"subset": [b.id], "duplicate": [b.id, a.id, a.id], "unknown": [b.id, a.id, 424242], "strings": ["b", "a"]}[ids]
    response = client.patch(url(page, "/reorder"), json={"ids": sent}, headers=auth)
    assert response.status_code == 422
    assert all(name.split(".")[0] == "ids" for name in response.json["error"]["fields"])
    assert [f["key"] for f in client.get(url(page), headers=auth).json["data"]] == ["a", "b"]


def test_another_stores_page_or_field_is_404(client, db, app, user, page, auth):
    mine = make_field(db, page, label="Mine")
    stranger = make_user(db)
    their_store = make_store(db, owner=stranger, name="Theirs")
    their_page = make_page(db, their_store)
    theirs = make_field(db, their_page, label="Theirs")
    my_other_page = make_page(db, page.store)
    db.commit()
    create, change, order = {"label": "X", "type": "text"}, {"label": "X"}, {"ids": [theirs.id]}
    foreign = [
        ("get", url(their_page), None), ("post", url(their_page), create), ("patch", url(their_page, "/reorder"), order),
        ("get", url(their_page, f"/{theirs.id}"), None), ("patch", url(their_page, f"/{theirs.id}"), change),
        ("delete", url(their_page, f"/{theirs.id}"), None),
        # my store in the URL, their page or field in it
        ("get", f"/api/stores/{page.store_id}/pages/{their_page.id}/custom-fields", None),
        ("get", url(page, f"/{theirs.id}"), None), ("delete", url(page, f"/{theirs.id}"), None),
        # my own field under my other page
        ("patch", url(my_other_page, f"/{mine.id}"), change), ("delete", url(my_other_page, f"/{mine.id}"), None),
        ("get", url(page, f"/{2**63}"), None), ("get", f"/api/stores/{page.store_id}/pages/{2**64}/custom-fields", None),
    ]
    for method, path, body in foreign:
        response = getattr(client, method)(path, json=body, headers=auth)
        assert response.status_code == 404, (method, path)
        assert response.json["error"]["code"] == "not_found"
    assert db.scalar(sa.select(CustomField.label).where(CustomField.id == theirs.id)) == "Theirs"


def test_viewers_read_and_admins_write(client, db, app, store, page):
    field = make_field(db, page, label="Company")
    viewer, admin = make_user(db), make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    add_member(db, store, admin, role=Role.ADMIN)
    db.commit()
    as_viewer, as_admin = bearer(access_token_for(app, viewer)), bearer(access_token_for(app, admin))
    assert client.get(url(page), headers=as_viewer).status_code == 200
    assert client.get(url(page, f"/{field.id}"), headers=as_viewer).status_code == 200
    for method, path, body in (
        ("post", url(page), {"label": "X", "type": "text"}), ("patch", url(page, f"/{field.id}"), {"label": "X"}),
        ("patch", url(page, "/reorder"), {"ids": [field.id]}), ("delete", url(page, f"/{field.id}"), None),
    ):
        response = getattr(client, method)(path, json=body, headers=as_viewer)
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden", (method, path)
    assert client.post(url(page), json={"label": "X", "type": "text"}, headers=as_admin).status_code == 201


def test_api_keys_act_as_admin_of_their_own_store_only(client, db, user, store, page):
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    other_store = make_store(db, name="Elsewhere")
    _, other_raw = create_api_key(db, other_store, name="Other", created_by=other_store.owner)
    db.commit()
    created = client.post(url(page), json={"label": "Company", "type": "text"}, headers=bearer(raw))
    assert created.status_code == 201
    assert client.delete(url(page, f"/{created.json['id']}"), headers=bearer(raw)).status_code == 204
    assert client.get(url(page), headers=bearer(other_raw)).status_code == 404


def test_a_token_is_required(client, page):
    assert client.get(url(page)).status_code == 401
    assert client.post(url(page), json={"label": "X", "type": "text"}).status_code == 401
