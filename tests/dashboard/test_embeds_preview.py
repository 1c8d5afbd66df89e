"""Dashboard embed screen: a preview of how each embed will look on the merchant's site.

The preview is rendered into the screen (see checkie/dashboard/embeds.py): it frames nothing,
opens no checkout session and counts no view; the button and link lead to the read-only
preview, never the live checkout."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from checkie.catalog.models import PageStats, Variant, VariantOption
from checkie.checkout.models import CheckoutSession
from checkie.stores.models import Role
from tests.csp_audit import audit
from tests.factories import add_member, make_embed, make_page, make_user
from tests.http import HX, login_as, post_form


@pytest.fixture
def page(db, store):
    page = make_page(db, store, title="T-shirt", slug="t-shirt", publish=True)
    db.commit()
    return page


def base(page) -> str:
    return f"/dashboard/stores/{page.store_id}/pages/{page.id}/embeds"


def preview_of(body: str, embed) -> str:
    """The <figure> previewing `embed` (the screen lists several)."""
    match = re.search(
        rf'<figure class="embed-preview[^"]*" aria-labelledby="embed-{embed.id}-preview-title".*?</figure>', body, re.DOTALL,
    )
    assert match, f"no preview for {embed.public_id}"
    return match.group(0)


def _three_embeds(db, page):
    inline = make_embed(db, page, type="inline", theme="dark")
    button = make_embed(db, page, type="button", button_text="Get the <shirt>", theme="light")
    link = make_embed(db, page, type="link", button_text="Order now")
    db.commit()
    return inline, button, link


def test_each_embed_type_has_its_preview(client, db, user, page):
    inline, button, link = _three_embeds(db, page)
    login_as(client, user)
    body = client.get(base(page)).get_data(as_text=True)
    preview_url = f"/dashboard/stores/{page.store_id}/pages/{page.id}/preview"

    shown = preview_of(body, inline)
    assert 'data-embed-preview="inline"' in shown and 'data-theme="dark"' in shown
    assert "Acme Goods" in shown and "<h4>T-shirt</h4>" in shown and "$25.00" in shown
    assert f'id="embed-{inline.id}-preview-email"' in shown and "<button type=\"button\" disabled>Pay $25.00</button>" in shown
    assert f'href="{preview_url}"' in shown

    shown = preview_of(body, button)
    assert 'data-embed-preview="button"' in shown and 'data-theme="light"' in shown
    assert f'<a href="{preview_url}" role="button" class="embed-preview-button">Get the &lt;shirt&gt;</a>' in shown

    shown = preview_of(body, link)
    assert 'data-embed-preview="link"' in shown and "data-theme" not in shown  # links take the site's style
    assert f'<a href="{preview_url}" class="embed-preview-link">Order now</a>' in shown
    assert f"<code>http://localhost/c/{page.store.slug}/t-shirt</code>" in shown

    # each preview sits beside its snippet and copy button
    for embed in (inline, button, link):
        assert body.index(f'aria-labelledby="embed-{embed.id}-preview-title"') < body.index(f'id="embed-code-{embed.id}"')
        assert f'data-copy="#embed-code-{embed.id}"' in body


def test_the_preview_frames_nothing_and_opens_no_session(client, db, user, page):
    inline, _button, _link = _three_embeds(db, page)
    login_as(client, user)
    response = client.get(base(page))
    body = response.get_data(as_text=True)
    assert "<iframe" not in body
    for embed in (inline, _button, _link):
        assert "/embed/" not in preview_of(body, embed) and "/c/" not in re.sub(r"<code>.*?</code>", "", preview_of(body, embed))
    assert db.scalar(sa.select(sa.func.count(CheckoutSession.id))) == 0
    db.expire_all()
    assert db.scalar(sa.select(PageStats.views).where(PageStats.page_id == page.id)) == 0
    assert audit(body, full_page=True, path=base(page)) == []


def test_the_inline_preview_shows_the_price_the_live_page_opens_at(client, db, user, page):
    """The first option of each variant is preselected on the live page, cheaper ones or not."""
    variant = Variant(page_id=page.id, name="Size", position=0)
    db.add(variant)
    db.flush()
    db.add_all([VariantOption(variant_id=variant.id, name="M", price_delta=0, position=0),
                VariantOption(variant_id=variant.id, name="S", price_delta=-500, position=1)])
    embed = make_embed(db, page, type="inline")
    db.commit()
    login_as(client, user)
    shown = preview_of(client.get(base(page)).get_data(as_text=True), embed)
    assert "<strong>$25.00</strong>" in shown and "Pay $25.00" in shown
    assert "From" not in shown and "$20.00" not in shown and "data-theme" not in shown


def test_the_htmx_fragment_carries_the_previews(client, db, user, page):
    inline, button, link = _three_embeds(db, page)
    login_as(client, user)
    response = client.get(base(page), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="embeds">')
    for embed in (inline, button, link):
        preview_of(body, embed)
    assert audit(body, full_page=False, path=base(page)) == []


def test_a_created_embed_comes_back_with_its_preview(client, db, user, page):
    login_as(client, user)
    response = post_form(client, base(page), {"type": "button", "button_text": "Grab it", "theme": "dark"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" not in body
    assert 'data-embed-preview="button"' in body and ">Grab it</a>" in body


def test_viewers_see_the_previews(client, db, store, page):
    inline, button, link = _three_embeds(db, page)
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    body = client.get(base(page)).get_data(as_text=True)
    for embed in (inline, button, link):
        preview_of(body, embed)
    assert "Create embed" not in body


def test_the_screen_links_to_the_embedding_guide(client, db, user, page):
    login_as(client, user)
    body = client.get(base(page)).get_data(as_text=True)
    assert '<a href="/docs/embeds">the embedding guide</a>' in body
