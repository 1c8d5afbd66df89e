"""Dashboard: a page's embeds — the list with the code and a copy button, create, delete."""
import html as htmllib

import pytest
import sqlalchemy as sa

from checkie.catalog.models import Embed, EmbedType
from checkie.stores.models import Role
from tests.factories import add_member, make_embed, make_page, make_store, make_user
from tests.http import HX, login_as, post_form


@pytest.fixture
def page(db, store):
    page = make_page(db, store, title="T-shirt", slug="t-shirt", publish=True)
    db.commit()
    return page


def base(page) -> str:
    return f"/dashboard/stores/{page.store_id}/pages/{page.id}/embeds"


def _count(db) -> int:
    return db.scalar(sa.select(sa.func.count(Embed.id)))


def test_the_list_shows_each_embed_with_its_code_and_a_copy_button(client, db, user, page):
    embed = make_embed(db, page, type="button", allowed_origins=["https://shop.example"])
    db.commit()
    login_as(client, user)
    response = client.get(base(page))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert embed.public_id in body and "https://shop.example" in body and "Button" in body
    text = htmllib.unescape(body)
    assert f'data-checkie-embed="{embed.public_id}" data-type="button"' in text
    assert f'data-src="http://localhost/embed/{embed.public_id}"' in text
    assert '<script async src="http://localhost/static/embed.js"></script>' in text
    assert f'<pre><code id="embed-code-{embed.id}">' in body and f'data-copy="#embed-code-{embed.id}"' in body
    assert "<script async" not in body  # the snippet is shown, never run


def test_an_empty_list_explains_itself_and_unpublished_pages_are_flagged(client, db, user, store):
    draft = make_page(db, store)
    db.commit()
    login_as(client, user)
    body = client.get(base(draft)).get_data(as_text=True)
    assert "No embeds yet" in body and "Create embed" in body and "only once it is published" in body


def test_htmx_create_answers_the_fragment_with_the_new_code(client, db, user, page):
    login_as(client, user)
    response = post_form(client, base(page), {
        "type": "inline", "allowed_origins": "HTTPS://Shop.Example\r\n\r\nhttp://localhost:3000/", "theme": "dark", "button_text": "",
    }, headers=HX)
    body = response.get_data(as_text=True)
    embed = db.scalar(sa.select(Embed))
    assert response.status_code == 201 and "<html" not in body and body.lstrip().startswith('<div id="embeds">')
    assert f"Created the inline embed {embed.public_id}" in body and f"embed-code-{embed.id}" in body
    assert embed.type is EmbedType.INLINE and embed.allowed_origins == ["https://shop.example", "http://localhost:3000"]
    assert embed.settings == {"button_text": "Buy now", "theme": "dark"}


def test_a_plain_create_redirects_back_to_the_list(client, db, user, page):
    login_as(client, user)
    response = post_form(client, base(page), {"type": "link", "button_text": "Get it", "theme": "auto"})
    assert response.status_code == 303 and response.headers["Location"] == base(page)
    assert db.scalar(sa.select(Embed.settings))["button_text"] == "Get it"


@pytest.mark.parametrize("data, error_id", [
    ({"type": "inline", "allowed_origins": "https://shop.example/checkout", "theme": "auto"}, "allowed_origins-error"),
    ({"type": "inline", "allowed_origins": "*", "theme": "auto"}, "allowed_origins-error"),
    ({"type": "popup", "theme": "auto"}, "type-error"),
    ({"type": "button", "button_text": "x" * 41, "theme": "auto"}, "button_text-error"),
    ({"type": "button", "button_text": "a\tb", "theme": "auto"}, "button_text-error"),
    ({"type": "button", "theme": "neon"}, "theme-error"),
    ({"type": "inline", "theme": "auto", "brand_color": "teal"}, "brand_color-error"),
])
def test_invalid_input_is_a_422_with_errors_beside_the_fields(client, db, user, page, data, error_id):
    login_as(client, user)
    response = post_form(client, base(page), data, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and f'id="{error_id}"' in body
    assert _count(db) == 0


def test_deleting_an_embed(client, db, user, page):
    first, second = make_embed(db, page), make_embed(db, page)
    db.commit()
    login_as(client, user)
    response = post_form(client, f"{base(page)}/{first.id}/delete", page=base(page), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and f"Deleted {first.public_id}" in body
    assert first.public_id not in body.replace(f"Deleted {first.public_id}", "")
    response = post_form(client, f"{base(page)}/{second.id}/delete", page=base(page))
    assert response.status_code == 303 and response.headers["Location"] == base(page)
    assert _count(db) == 0


def test_viewers_see_codes_but_cannot_create_or_delete(client, db, store, page):
    embed = make_embed(db, page)
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    body = client.get(base(page)).get_data(as_text=True)
    assert f"embed-code-{embed.id}" in body and "data-copy" in body
    assert "Create embed" not in body and f'aria-label="Delete {embed.public_id}"' not in body
    token_page = f"/dashboard/stores/{store.id}"
    assert post_form(client, base(page), {"type": "inline", "theme": "auto"}, page=token_page).status_code == 403
    assert post_form(client, f"{base(page)}/{embed.id}/delete", page=token_page).status_code == 403
    assert _count(db) == 1


def test_another_stores_page_or_embed_is_404(client, db, user, page):
    their_page = make_page(db, make_store(db, owner=make_user(db), name="Theirs"))
    theirs = make_embed(db, their_page)
    mine = make_embed(db, page)
    other_page = make_page(db, page.store)
    db.commit()
    login_as(client, user)
    assert client.get(f"/dashboard/stores/{page.store_id}/pages/{their_page.id}/embeds").status_code == 404
    assert client.get(f"/dashboard/stores/{their_page.store_id}/pages/{their_page.id}/embeds").status_code == 404
    assert post_form(client, f"{base(page)}/{theirs.id}/delete", page=base(page)).status_code == 404
    assert post_form(client, f"{base(other_page)}/{mine.id}/delete", page=base(page)).status_code == 404
    assert client.get(f"/dashboard/stores/{page.store_id}/pages/{2**63}/embeds").status_code == 404
    assert _count(db) == 2
