"""The public embedding guide at /docs/embeds: no login, the snippet for each embed type, the
data attributes, allowed origins, the postMessage contract and the widget endpoint, all as
text (nothing on the page runs)."""
from __future__ import annotations

import html as htmllib


from checkie.storefront import embed_docs
from tests.csp_audit import audit

MESSAGE_NAMES = ("ready", "resize", "attempt_failed", "awaiting_action", "completed", "closed")


def test_the_guide_is_public_and_a_full_page(client):
    response = client.get("/docs/embeds")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "<html" in body and "Embedding the checkout" in body
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert audit(body, full_page=True, path="/docs/embeds") == []


def test_the_guide_names_every_message_of_the_contract(client):
    text = htmllib.unescape(client.get("/docs/embeds").get_data(as_text=True))
    for name in MESSAGE_NAMES:
        assert f"<code>checkie:{name}</code>" in text
    assert [name for name, _payload, _when in embed_docs.EMBED_MESSAGES] == [f"checkie:{n}" for n in MESSAGE_NAMES]
    assert '{"type": "checkie:<name>", "embedId": "emb_' in text and '"payload"' in text
    assert '{"height": ' in text and '{"code": ' in text and '"sessionId"' in text and '"paymentId"' in text
    assert "event.origin" in text and "never <code>\"*\"</code>" in text


def test_the_guide_shows_the_snippets_and_the_listener_as_escaped_code(client):
    body = client.get("/docs/embeds").get_data(as_text=True)
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


def test_the_guide_renders_the_same_for_htmx_and_answers_only_get(client):
    """No block to swap: an htmx request (a boosted link) gets the whole page too."""
    response = client.get("/docs/embeds", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert client.post("/docs/embeds").status_code == 405


# ---------------------------------------------------------------- /docs/webhooks

def test_the_webhooks_guide_is_public_and_a_full_page(client):
    response = client.get("/docs/webhooks")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body and "Receiving webhooks" in body
    assert audit(body, full_page=True, path="/docs/webhooks") == []
    assert client.post("/docs/webhooks").status_code == 405


def test_the_webhooks_guide_shows_both_verifications_as_escaped_code(client):
    text = htmllib.unescape(client.get("/docs/webhooks").get_data(as_text=True))
    assert "stripe.WebhookSignature.verify_header(" in text and 'request.headers.get("X-Webhook-Signature")' in text
    assert "tolerance=300" in text and "stripe.SignatureVerificationError" in text
    assert "from standardwebhooks import Webhook, WebhookVerificationError" in text
    assert "webhook.verify(request.get_data(), dict(request.headers))" in text
    assert '"type": "payment.completed"' in text and '"storeId"' in text and '"createdAt"' in text


def test_the_webhooks_guide_lists_every_event_retries_disabling_and_rotation(client):
    from checkie.webhooks.services import EVENT_TYPES

    text = htmllib.unescape(client.get("/docs/webhooks").get_data(as_text=True))
    for kind in EVENT_TYPES:
        assert f"<tr><td><code>{kind}</code></td>" in text
    assert "1, 2, 4, 8 and 16 minutes" in text and "six attempts" in text
    assert "410 Gone" in text and "24 hours (at least 10 in a row)" in text
    assert "two signatures" in text and "169.254" in text and "100.64/10" in text


def test_the_webhooks_screen_links_the_guide(client, user, store):
    from tests.http import login_as

    login_as(client, user)
    assert 'href="/docs/webhooks"' in client.get(f"/dashboard/stores/{store.id}/webhooks").get_data(as_text=True)
