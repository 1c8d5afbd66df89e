"""Dashboard: API keys — list, create (shown once), revoke."""
import re

import sqlalchemy as sa

from checkie.security import hash_token
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import ApiKey, Role
from tests.factories import add_member, make_user
from tests.http import HX, bearer, login_as, post_form

_KEY = re.compile(r'value="(ck_test_[A-Za-z0-9_-]+)"')


def keys_url(store) -> str:
    return f"/dashboard/stores/{store.id}/api-keys"


def test_empty_key_list_explains_itself(client, user, store):
    login_as(client, user)
    page = client.get(keys_url(store)).get_data(as_text=True)
    assert "No API keys yet" in page and "Create test key" in page


def test_creating_a_key_shows_it_once(client, db, user, store):
    login_as(client, user)
    response = post_form(client, keys_url(store), {"name": "Website backend"})
    page = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" in page and "will not be shown again" in page
    raw = _KEY.search(page).group(1)
    key = db.scalar(sa.select(ApiKey))
    assert key.key_hash == hash_token(raw) and key.prefix == raw[:12]
    listing = client.get(keys_url(store)).get_data(as_text=True)
    assert raw not in listing and f"{key.prefix}…" in listing and "Website backend" in listing
    assert client.get("/api/stores", headers=bearer(raw)).status_code == 200


def test_htmx_create_returns_the_keys_fragment(client, db, user, store):
    login_as(client, user)
    response = post_form(client, keys_url(store), {"name": "Backend"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" not in body and body.lstrip().startswith('<div id="keys">')
    assert _KEY.search(body) and "Backend" in body


def test_a_key_needs_a_name(client, db, user, store):
    login_as(client, user)
    response = post_form(client, keys_url(store), {"name": "   "}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="name-error"' in body
    assert db.scalar(sa.select(sa.func.count(ApiKey.id))) == 0


def test_revoking_stops_the_key(client, db, user, store):
    key, raw = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    login_as(client, user)
    response = post_form(client, f"{keys_url(store)}/{key.id}/revoke", page=keys_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "was revoked" in body and "Revoked" in body
    db.expire_all()
    assert key.revoked_at is not None
    assert client.get("/api/stores", headers=bearer(raw)).status_code == 401


def test_plain_revoke_redirects_with_303(client, db, user, store):
    key, _ = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    login_as(client, user)
    response = post_form(client, f"{keys_url(store)}/{key.id}/revoke", page=keys_url(store))
    assert response.status_code == 303 and response.headers["Location"].endswith(keys_url(store))


def test_admins_manage_keys_viewers_only_look(client, db, user, store):
    create_api_key(db, store, name="Backend", created_by=user)
    admin, viewer = make_user(db), make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    page = client.get(keys_url(store)).get_data(as_text=True)
    assert "Backend" in page and "Create test key" not in page and "Revoke" not in page
    login_as(client, admin)
    assert post_form(client, keys_url(store), {"name": "By admin"}).status_code == 201
