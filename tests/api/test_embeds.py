"""JSON API: embeds — create and list under a page, read, delete and get the code by integer id."""
import pytest
import sqlalchemy as sa

from checkie.catalog.models import Embed
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_embed, make_page, make_store, make_user
from tests.http import access_token_for, bearer

EMBED_KEYS = {"id", "embedId", "pageId", "type", "allowedOrigins", "settings", "iframeUrl", "createdAt"}
APP_URL = "http://localhost"  # tests/conftest.py


@pytest.fixture
def page(db, store):
    page = make_page(db, store, slug="t-shirt", publish=True)
    db.commit()
    return page


def page_url(page) -> str:
    return f"/api/stores/{page.store_id}/pages/{page.id}/embeds"


def embed_url(store_id: int, embed_id, suffix: str = "") -> str:
    return f"/api/stores/{store_id}/embeds/{embed_id}{suffix}"


def test_create_answers_201_with_the_embed(client, page, auth):
    response = client.post(page_url(page), json={
        "type": "button", "allowedOrigins": ["HTTPS://Shop.Example/"], "settings": {"buttonText": "Get it", "theme": "dark"},
    }, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == EMBED_KEYS
    assert body["embedId"].startswith("emb_") and body["pageId"] == page.id and body["type"] == "button"
    assert body["allowedOrigins"] == ["https://shop.example"]
    assert body["settings"] == {"buttonText": "Get it", "theme": "dark"}
    assert body["iframeUrl"] == f"{APP_URL}/embed/{body['embedId']}"


def test_create_with_only_a_type(client, page, auth):
    body = client.post(page_url(page), json={"type": "inline"}, headers=auth).json
    assert body["allowedOrigins"] == [] and body["settings"] == {"buttonText": "Buy now", "theme": "auto"}


@pytest.mark.parametrize("payload, field", [
    ({}, "type"),
    ({"type": "popup"}, "type"),
    ({"type": "inline", "allowedOrigins": ["https://shop.example/checkout"]}, "allowedOrigins"),
    ({"type": "inline", "allowedOrigins": ["*"]}, "allowedOrigins"),
    ({"type": "inline", "allowedOrigins": "https://shop.example"}, "allowedOrigins"),
    ({"type": "inline", "allowedOrigins": [f"https://s{n}.example" for n in range(21)]}, "allowedOrigins"),
    ({"type": "inline", "settings": {"theme": "neon"}}, "settings.theme"),
    ({"type": "inline", "settings": {"colour": "red"}}, "settings.colour"),
    ({"type": "button", "settings": {"buttonText": "x" * 41}}, "settings.buttonText"),
    ({"type": "inline", "settings": {"brandColor": "teal"}}, "settings.brandColor"),
])
def test_create_refuses_invalid_embeds_with_422(client, db, page, auth, payload, field):
    response = client.post(page_url(page), json=payload, headers=auth)
    assert response.status_code == 422 and response.json["error"]["code"] == "validation_error"
    assert any(name.startswith(field) for name in response.json["error"]["fields"]), response.json
    assert db.scalar(sa.select(sa.func.count(Embed.id))) == 0


def test_list_read_and_delete(client, db, page, auth):
    first, second = make_embed(db, page), make_embed(db, page, type="link")
    db.commit()
    listing = client.get(page_url(page), headers=auth).json
    assert [e["id"] for e in listing["data"]] == [second.id, first.id] and listing["nextCursor"] is None
    assert set(listing["data"][0]) == EMBED_KEYS
    paged = client.get(page_url(page) + "?limit=1", headers=auth).json
    assert [e["id"] for e in paged["data"]] == [second.id] and paged["nextCursor"]
    rest = client.get(page_url(page) + f"?limit=1&cursor={paged['nextCursor']}", headers=auth).json
    assert [e["id"] for e in rest["data"]] == [first.id]
    one = client.get(embed_url(page.store_id, first.id), headers=auth).json
    assert one["embedId"] == first.public_id and one["type"] == "inline"
    response = client.delete(embed_url(page.store_id, first.id), headers=auth)
    assert response.status_code == 204 and response.data == b""
    assert client.get(embed_url(page.store_id, first.id), headers=auth).status_code == 404


def test_code_points_at_embed_js_the_iframe_and_the_checkout(client, db, page, auth):
    inline, link = make_embed(db, page), make_embed(db, page, type="link")
    db.commit()
    response = client.get(embed_url(page.store_id, inline.id, "/code"), headers=auth)
    assert response.status_code == 200 and set(response.json) == {"html"}
    html = response.json["html"]
    assert f'data-checkie-embed="{inline.public_id}"' in html and 'data-type="inline"' in html
    assert f'data-src="{APP_URL}/embed/{inline.public_id}"' in html
    assert f'<script async src="{APP_URL}/static/embed.js"></script>' in html
    assert f'<noscript><a href="{APP_URL}/c/acme/t-shirt">' in html
    link_html = client.get(embed_url(page.store_id, link.id, "/code"), headers=auth).json["html"]
    assert link_html.startswith(f'<a href="{APP_URL}/c/acme/t-shirt"')


def test_the_public_id_is_not_the_path_id(client, db, page, auth):
    embed = make_embed(db, page)
    db.commit()
    assert client.get(embed_url(page.store_id, embed.public_id), headers=auth).status_code == 404


def test_another_stores_page_or_embed_is_404(client, db, page, auth):
    stranger_store = make_store(db, owner=make_user(db), name="Theirs")
    their_page = make_page(db, stranger_store)
    theirs = make_embed(db, their_page)
    db.commit()
    for method, path, body in (
        ("get", page_url(their_page), None), ("post", page_url(their_page), {"type": "inline"}),
        ("get", f"/api/stores/{page.store_id}/pages/{their_page.id}/embeds", None),
        ("post", f"/api/stores/{page.store_id}/pages/{their_page.id}/embeds", {"type": "inline"}),
        ("get", embed_url(page.store_id, theirs.id), None), ("delete", embed_url(page.store_id, theirs.id), None),
        ("get", embed_url(page.store_id, theirs.id, "/code"), None),
        ("get", embed_url(stranger_store.id, theirs.id), None),
        ("get", embed_url(page.store_id, 2**63), None), ("get", f"/api/stores/{page.store_id}/pages/{2**63}/embeds", None),
    ):
        response = getattr(client, method)(path, json=body, headers=auth)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found", (method, path)
    assert db.scalar(sa.select(sa.func.count(Embed.id))) == 1


def test_viewers_read_and_admins_write(client, db, app, store, page):
    embed = make_embed(db, page)
    viewer, admin = make_user(db), make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    add_member(db, store, admin, role=Role.ADMIN)
    db.commit()
    as_viewer, as_admin = bearer(access_token_for(app, viewer)), bearer(access_token_for(app, admin))
    for path in (page_url(page), embed_url(store.id, embed.id), embed_url(store.id, embed.id, "/code")):
        assert client.get(path, headers=as_viewer).status_code == 200, path
    assert client.post(page_url(page), json={"type": "link"}, headers=as_viewer).status_code == 403
    assert client.delete(embed_url(store.id, embed.id), headers=as_viewer).status_code == 403
    assert client.post(page_url(page), json={"type": "link"}, headers=as_admin).status_code == 201
    assert client.delete(embed_url(store.id, embed.id), headers=as_admin).status_code == 204


def test_api_keys_act_as_admin_of_their_own_store_only(client, db, user, store, page):
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    other_store = make_store(db, name="Elsewhere")
    _, other_raw = create_api_key(db, other_store, name="Other", created_by=other_store.owner)
    db.commit()
    created = client.post(page_url(page), json={"type": "inline"}, headers=bearer(raw))
    assert created.status_code == 201
    assert client.get(embed_url(store.id, created.json["id"], "/code"), headers=bearer(raw)).status_code == 200
    assert client.get(embed_url(store.id, created.json["id"]), headers=bearer(other_raw)).status_code == 404
    assert client.delete(embed_url(store.id, created.json["id"]), headers=bearer(raw)).status_code == 204


def test_a_token_is_required(client, page):
    assert client.get(page_url(page)).status_code == 401
    assert client.post(page_url(page), json={"type": "inline"}).status_code == 401


def test_a_brand_colour_is_kept_lower_cased(client, page, auth):
    body = client.post(page_url(page), json={"type": "inline", "settings": {"brandColor": "#0E7C66"}}, headers=auth).json
    assert body["settings"] == {"buttonText": "Buy now", "theme": "auto", "brandColor": "#0e7c66"}
