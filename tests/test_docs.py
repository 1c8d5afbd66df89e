"""The public embedding guide at /docs/embeds: no login, the snippet for each embed type, the
data attributes, allowed origins, the postMessage contract and the widget endpoint, all as
text (nothing on the page runs)."""
from __future__ import annotations

import html as htmllib

import pytest

from checkie import docs
from tests.apps import fresh_app
from tests.csp_audit import audit

MESSAGE_NAMES = ("ready", "resize", "attempt_failed", "awaiting_action", "completed", "closed")


@pytest.fixture
def docs_client(app):
    """A client of an app serving the docs blueprint. Until create_app registers it, a fresh app
    gets it added before its first request (the session-wide app has served requests already)."""
    if "docs" in app.blueprints:
        yield app.test_client()
        return
    with fresh_app(app, setup=lambda fresh: fresh.register_blueprint(docs.bp)) as fresh:
        yield fresh.test_client()


def test_the_guide_is_public_and_a_full_page(docs_client):
    response = docs_client.get("/docs/embeds")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "<html" in body and "Embedding the checkout" in body
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert audit(body, full_page=True, path="/docs/embeds") == []


def test_the_guide_names_every_message_of_the_contract(docs_client):
    text = htmllib.unescape(docs_client.get("/docs/embeds").get_data(as_text=True))
    for name in MESSAGE_NAMES:
        assert f"<code>checkie:{name}</code>" in text
    assert [name for name, _payload, _when in docs.EMBED_MESSAGES] == [f"checkie:{n}" for n in MESSAGE_NAMES]
    assert '{"type": "checkie:<name>", "embedId": "emb_' in text and '"payload"' in text
    assert '{"height": ' in text and '{"code": ' in text and '"sessionId"' in text and '"paymentId"' in text
    assert "event.origin" in text and "never <code>\"*\"</code>" in text


def test_the_guide_shows_the_snippets_and_the_listener_as_escaped_code(docs_client):
    body = docs_client.get("/docs/embeds").get_data(as_text=True)
    text = htmllib.unescape(body)
    for attribute in ("data-checkie-embed", "data-type", "data-src", "data-theme", "data-button-text", "data-checkie-link"):
        assert f"<code>{attribute}</code>" in text
    for kind in ("inline", "button"):
        assert f'data-type="{kind}" data-src="http://localhost/embed/emb_' in text
    assert '<script async src="http://localhost/static/embed.js"></script>' in text
    assert "<script async" not in body and "&lt;script async" in body  # shown, never run
    listener = "document.querySelector('[data-checkie-embed]').addEventListener('checkie:completed', e =&gt;"
    assert listener in body and "e.detail.paymentId" in body
    assert "GET http://localhost/api/widget/embed/<id>" in text
    assert '"iframeUrl": "http://localhost/embed/emb_' in text and "frame-ancestors" in text


def test_the_guide_renders_the_same_for_htmx_and_answers_only_get(docs_client):
    """No block to swap: an htmx request (a boosted link) gets the whole page too."""
    response = docs_client.get("/docs/embeds", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert docs_client.post("/docs/embeds").status_code == 405
