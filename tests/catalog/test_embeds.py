"""Embed services: types, settings, allowed origins, store scoping, and the code to paste."""
import re

import pytest
import sqlalchemy as sa

from checkie.catalog import embeds
from checkie.catalog.models import Embed, EmbedType
from checkie.errors import NotFound, ValidationFailed
from tests.factories import make_embed, make_page, make_store

APP_URL = "https://pay.example.com"


@pytest.fixture
def page(db, store):
    return make_page(db, store, slug="t-shirt")


def test_an_embed_gets_an_unguessable_public_id_and_defaults(db, store, page):
    embed = make_embed(db, page)
    other = make_embed(db, page)
    assert re.fullmatch(r"emb_[A-Za-z0-9_-]{16}", embed.public_id) and embed.public_id != other.public_id
    assert (embed.store_id, embed.page_id, embed.type) == (store.id, page.id, EmbedType.INLINE)
    assert embed.settings == {"button_text": "Buy now", "theme": "auto"} and embed.allowed_origins == []


@pytest.mark.parametrize("embed_type", ["inline", "button", "link"])
def test_every_type_can_be_created(db, page, embed_type):
    assert make_embed(db, page, type=embed_type).type is EmbedType(embed_type)


def test_unknown_types_are_refused(db, page):
    with pytest.raises(ValidationFailed) as excinfo:
        make_embed(db, page, type="popup")
    assert "type" in excinfo.value.fields


@pytest.mark.parametrize("given, stored", [
    (["https://shop.example"], ["https://shop.example"]),
    (["HTTPS://Shop.Example:443/"], ["https://shop.example"]),
    (["http://localhost:5000", "http://LOCALHOST:5000"], ["http://localhost:5000"]),
    (["https://shop.example:8443", "http://127.0.0.1"], ["https://shop.example:8443", "http://127.0.0.1"]),
    (["https://[::1]:8443"], ["https://[::1]:8443"]),
    (["https://bücher.example"], ["https://xn--bcher-kva.example"]),
    ([" https://a.example ", "https://b.example", "https://a.example"], ["https://a.example", "https://b.example"]),
    ([], []),
    (None, []),
])
def test_allowed_origins_are_normalised(db, page, given, stored):
    assert make_embed(db, page, allowed_origins=given).allowed_origins == stored


@pytest.mark.parametrize("origin", [
    "shop.example", "https://shop.example/checkout", "https://shop.example/?a=1", "https://shop.example#top",
    "ftp://shop.example", "javascript:alert(1)", "https://user:pw@shop.example", "https://*.shop.example",
    "https://shop.example:0", "https://shop.example:70000", "https://-shop.example", "https://shop..example",
    "https://", "", "https://shop example", "https://shop.example; script-src *", "https://shop.example//",
])
def test_anything_but_an_http_origin_is_refused(db, page, origin):
    with pytest.raises(ValidationFailed) as excinfo:
        make_embed(db, page, allowed_origins=["https://fine.example", origin])
    assert list(excinfo.value.fields) == ["allowed_origins"]
    assert db.scalar(sa.select(sa.func.count(Embed.id))) == 0


def test_at_most_20_origins(db, page):
    with pytest.raises(ValidationFailed):
        make_embed(db, page, allowed_origins=[f"https://s{n}.example" for n in range(21)])


@pytest.mark.parametrize("settings, field", [
    ({"theme": "neon"}, "theme"),
    ({"button_text": "x" * 41}, "button_text"),
    ({"button_text": "two\nlines"}, "button_text"),
    ({"button_text": 5}, "button_text"),
])
def test_settings_are_a_small_validated_set(db, page, settings, field):
    with pytest.raises(ValidationFailed) as excinfo:
        make_embed(db, page, **settings)
    assert list(excinfo.value.fields) == [field]


def test_unknown_settings_are_refused(db, page):
    with pytest.raises(TypeError):
        make_embed(db, page, color="red")
    assert db.scalar(sa.select(sa.func.count(Embed.id))) == 0


def test_settings_are_stored_with_defaults(db, page):
    embed = make_embed(db, page, type="button", button_text=" Get it ", theme="dark")
    assert embed.settings == {"button_text": "Get it", "theme": "dark"}
    assert make_embed(db, page, button_text="  ").settings["button_text"] == "Buy now"


def test_embeds_are_listed_newest_first_and_found_only_in_their_store(db, store, page):
    first, second = make_embed(db, page), make_embed(db, page, type="link")
    assert embeds.list_embeds(db, page) == [second, first]
    assert embeds.get_embed(db, store, first.id) is first
    other_store = make_store(db, name="Other")
    for store_, embed_id in ((other_store, first.id), (store, 2**63), (store, 0), (store, second.id + 50)):
        with pytest.raises(NotFound):
            embeds.get_embed(db, store_, embed_id)


def test_public_ids_find_embeds(db, page):
    embed = make_embed(db, page)
    assert embeds.find_embed(db, embed.public_id) is embed
    assert embeds.find_embed(db, "emb_nope") is None and embeds.find_embed(db, str(embed.id)) is None


def test_deleting_removes_the_embed(db, page):
    embed = make_embed(db, page)
    embeds.delete_embed(db, embed)
    assert embeds.list_embeds(db, page) == []


def test_inline_code_loads_embed_js_and_frames_the_embed_page(db, store, page):
    embed = make_embed(db, page, theme="light")
    html = embeds.embed_code(embed, APP_URL + "/")
    assert html == (
        f'<div data-checkie-embed="{embed.public_id}" data-type="inline" '
        f'data-src="{APP_URL}/embed/{embed.public_id}" data-theme="light">\n'
        f'  <noscript><a href="{APP_URL}/c/acme/t-shirt">Buy now</a></noscript>\n'
        "</div>\n"
        f'<script async src="{APP_URL}/static/embed.js"></script>'
    )
    assert embeds.iframe_url(embed, APP_URL) == f"{APP_URL}/embed/{embed.public_id}"


def test_button_code_carries_the_button_text(db, page):
    embed = make_embed(db, page, type="button", button_text="Get the shirt")
    html = embeds.embed_code(embed, APP_URL)
    assert f'data-checkie-embed="{embed.public_id}" data-type="button"' in html
    assert 'data-button-text="Get the shirt"' in html and f'data-src="{APP_URL}/embed/{embed.public_id}"' in html
    assert f'<script async src="{APP_URL}/static/embed.js"></script>' in html
    assert f'<noscript><a href="{APP_URL}/c/acme/t-shirt">Get the shirt</a></noscript>' in html


def test_button_code_carries_the_brand_colour_for_embed_js_to_style_the_button(db, page):
    button = make_embed(db, page, type="button", brand_color="#D9480F")
    inline = make_embed(db, page, type="inline", brand_color="#d9480f")
    assert 'data-brand-color="#d9480f"' in embeds.embed_code(button, APP_URL)
    assert "data-brand-color" not in embeds.embed_code(inline, APP_URL)  # the frame takes it by itself
    assert "data-brand-color" not in embeds.embed_code(make_embed(db, page, type="button"), APP_URL)


def test_link_code_is_a_link_to_the_hosted_checkout(db, page):
    embed = make_embed(db, page, type="link", button_text="Buy the T-shirt")
    assert embeds.embed_code(embed, APP_URL) == (
        f'<a href="{APP_URL}/c/acme/t-shirt" data-checkie-link="{embed.public_id}">Buy the T-shirt</a>'
    )


def test_code_escapes_what_the_merchant_typed(db, page):
    embed = make_embed(db, page, type="button", button_text='"><script>x</script>')
    html = embeds.embed_code(embed, APP_URL)
    assert "<script>x" not in html and "&#34;&gt;&lt;script&gt;x&lt;/script&gt;" in html


def test_frame_ancestors_are_the_origins_or_any(db, page):
    assert embeds.frame_ancestors(make_embed(db, page)) == "*"
    embed = make_embed(db, page, allowed_origins=["https://a.example", "http://b.example:8080"])
    assert embeds.frame_ancestors(embed) == "https://a.example http://b.example:8080"
