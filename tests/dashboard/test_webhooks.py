"""Dashboard: webhook endpoints — create (the secret shown once), edit, disable/enable, delete,
rotate, the test event, the delivery log (filter, pages), a delivery's attempts and body,
resend, replay; viewers change nothing, and another store's endpoints do not exist."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.database import utcnow
from checkie.stores.models import Role
from checkie.webhooks import services
from checkie.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import add_member, make_store, make_user
from tests.http import HX, login_as, post_form
from tests.webhooks.receiver import Answer, Receiver

URL = "https://hooks.example.com/checkie"
_SECRET = re.compile(r'value="(whsec_[A-Za-z0-9+/=]+)"')


def base(store) -> str:
    return f"/dashboard/stores/{store.id}/webhooks"


def make_endpoint(db, store, url: str = URL, events=("payment.completed",)) -> WebhookEndpoint:
    endpoint, _ = services.create_endpoint(db, store, url=url, events=list(events), description="Orders")
    db.commit()
    return endpoint


def add_delivery(db, endpoint, *, status=DeliveryStatus.FAILED, type="payment.completed", minutes_ago=0) -> WebhookDelivery:
    """A delivery as the engine leaves it (no task runs: the row is written directly)."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    event = WebhookEvent(id=services.new_event_id(), store_id=endpoint.store_id, type=type,
                         data={"id": 42, "amount": 2500}, created_at=at)
    delivery = WebhookDelivery(event=event, endpoint_id=endpoint.id, status=status, attempts=6, next_attempt_at=at,
                               last_status_code=500, created_at=at)
    db.add(delivery)
    db.commit()
    return delivery


def count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------- create

def test_the_list_explains_itself_and_links_the_docs(client, user, store):
    login_as(client, user)
    page = client.get(base(store)).get_data(as_text=True)
    assert "No endpoints yet" in page and "Add endpoint" in page and 'href="/docs/webhooks"' in page


def test_creating_shows_the_secret_once(client, db, user, store, app):
    login_as(client, user)
    form = client.get(f"{base(store)}/new").get_data(as_text=True)
    assert 'value="payment.completed"' in form and 'value="ping"' not in form
    response = post_form(client, f"{base(store)}/new", {
        "url": URL, "events": ["payment.completed", "customer.created"], "description": "Orders"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" not in body and "will not show it again" in body
    secret = _SECRET.search(body).group(1)
    endpoint = db.scalar(sa.select(WebhookEndpoint))
    assert (endpoint.url, endpoint.events, endpoint.description) == (URL, ["payment.completed", "customer.created"], "Orders")
    assert endpoint.signing_secrets(app.config["ENCRYPTION_KEY"], now=utcnow()) == [secret]
    for page in (base(store), f"{base(store)}/{endpoint.id}"):
        shown = client.get(page).get_data(as_text=True)
        assert URL in shown and secret not in shown


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"url": "ftp://files.example.com/in", "events": ["payment.completed"]}, "url", "http"),
    ({"url": "", "events": ["payment.completed"]}, "url", "Enter the URL"),
    ({"url": URL}, "events", "at least one"),
    ({"url": URL, "events": ["payment.completed", "payment.teleported"]}, "events", "payment.teleported"),
])
def test_bad_fields_get_errors_beside_them_and_nothing_is_saved(client, db, user, store, fields, field, words):
    login_as(client, user)
    response = post_form(client, f"{base(store)}/new", fields, page=f"{base(store)}/new", headers=HX)
    body = text_of(response)
    assert response.status_code == 422 and "<html" not in body
    assert re.search(rf'id="{field}-error" class="field-error">[^<]*{re.escape(words)}', body)
    assert count(db, WebhookEndpoint) == 0


def test_a_private_address_is_refused_when_private_urls_are_not_allowed(client, db, user, store, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    login_as(client, user)
    response = post_form(client, f"{base(store)}/new", {"url": "http://10.0.0.1/hook", "events": ["payment.completed"]})
    body = text_of(response)
    assert response.status_code == 422 and "<html" in body and 'id="url-error"' in body
    assert count(db, WebhookEndpoint) == 0


# ---------------------------------------------------------------- edit, disable, delete, rotate

def test_editing_changes_url_events_and_description(client, db, user, store):
    endpoint = make_endpoint(db, store)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    response = post_form(client, page, {"url": "https://other.example.com/in", "events": ["customer.created"],
                                        "description": "CRM"}, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == page
    db.expire_all()
    assert (endpoint.url, endpoint.events, endpoint.description) == ("https://other.example.com/in", ["customer.created"], "CRM")
    assert "The endpoint was saved." in client.get(page).get_data(as_text=True)


def test_a_bad_edit_keeps_the_endpoint_as_it_was(client, db, user, store):
    endpoint = make_endpoint(db, store)
    login_as(client, user)
    response = post_form(client, f"{base(store)}/{endpoint.id}", {"url": "gopher://x.example/", "events": []}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="url-error"' in body and 'id="events-error"' in body
    db.expire_all()
    assert (endpoint.url, endpoint.events) == (URL, ["payment.completed"])


def test_disabling_and_enabling(client, db, user, store):
    endpoint = make_endpoint(db, store)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    response = post_form(client, f"{page}/disable", page=page)
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    db.expire_all()
    assert not endpoint.enabled
    assert "Disabled" in client.get(base(store)).get_data(as_text=True)
    post_form(client, f"{page}/enable", page=page)
    db.expire_all()
    assert endpoint.enabled and endpoint.disabled_at is None


def test_a_disabled_endpoint_shows_why(client, db, user, store):
    endpoint = make_endpoint(db, store)
    endpoint.disable(reason="Your server answered 410 Gone.")
    db.commit()
    login_as(client, user)
    assert "Your server answered 410 Gone." in text_of(client.get(base(store)))


def test_deleting_removes_the_endpoint_and_its_log(client, db, user, store):
    endpoint = make_endpoint(db, store)
    add_delivery(db, endpoint)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    assert "data-confirm=" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"{page}/delete", page=page)
    assert response.status_code == 303 and response.headers["Location"].endswith(base(store))
    assert count(db, WebhookEndpoint) == 0 and count(db, WebhookDelivery) == 0
    assert client.get(page).status_code == 404


def test_rotating_shows_the_new_secret_once_and_the_old_one_signs_a_day(client, db, user, store, app):
    endpoint = make_endpoint(db, store)
    key = app.config["ENCRYPTION_KEY"]
    (old,) = endpoint.signing_secrets(key, now=utcnow())
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    response = post_form(client, f"{page}/rotate", page=page, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="secret-box">')
    new = _SECRET.search(body).group(1)
    assert "24 hours" in body and new != old
    db.expire_all()
    assert endpoint.signing_secrets(key, now=utcnow()) == [new, old]
    assert new not in client.get(page).get_data(as_text=True)


# ---------------------------------------------------------------- test event, log, detail, resend, replay

def test_the_test_event_creates_a_delivery_that_reaches_the_receiver(client, db, user, store, receiver):
    endpoint = make_endpoint(db, store, url=receiver.url)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    response = post_form(client, f"{page}/test", page=page)
    assert response.status_code == 303
    delivery = db.scalar(sa.select(WebhookDelivery))
    assert delivery.endpoint_id == endpoint.id and delivery.event.type == "ping"
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["ping"]
    log = client.get(page).get_data(as_text=True)
    assert "on its way" in log and delivery.event_id in log and "Succeeded" in log


def test_the_test_event_is_refused_while_disabled(client, db, user, store):
    endpoint = make_endpoint(db, store)
    endpoint.disable(reason=None)
    db.commit()
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    post_form(client, f"{page}/test", page=page)
    assert count(db, WebhookDelivery) == 0
    assert "enable it first" in client.get(page).get_data(as_text=True)


def test_the_log_filters_by_status_and_pages_newest_first(client, db, user, store, monkeypatch):
    from checkie.dashboard import webhooks as screen

    monkeypatch.setattr(screen, "PAGE_SIZE", 2)
    endpoint = make_endpoint(db, store)
    failed = [add_delivery(db, endpoint, status=DeliveryStatus.FAILED) for _ in range(3)]
    succeeded = add_delivery(db, endpoint, status=DeliveryStatus.SUCCEEDED)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    first = client.get(f"{page}?status=failed", headers=HX)
    body = first.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="delivery-log">')
    assert re.search(r'aria-current="page">Failed</a>', body)
    assert re.findall(r'id="delivery-(\d+)"', body) == [str(failed[2].id), str(failed[1].id)]
    assert f"before={failed[1].id}" in body and "status=failed" in body
    second = client.get(f"{page}?status=failed&before={failed[1].id}", headers=HX).get_data(as_text=True)
    assert re.findall(r'id="delivery-(\d+)"', second) == [str(failed[0].id)] and "rel=\"next\"" not in second
    only = client.get(f"{page}?status=succeeded", headers=HX).get_data(as_text=True)
    assert re.findall(r'id="delivery-(\d+)"', only) == [str(succeeded.id)]
    pending = client.get(f"{page}?status=pending", headers=HX).get_data(as_text=True)
    assert "No pending deliveries" in pending


def test_the_detail_shows_every_attempt_and_the_body(client, db, user, store):
    endpoint = make_endpoint(db, store)
    delivery = add_delivery(db, endpoint)
    db.add_all([
        WebhookAttempt(delivery_id=delivery.id, status_code=500, duration_ms=31, response_excerpt="upstream broke", error=None),
        WebhookAttempt(delivery_id=delivery.id, status_code=None, duration_ms=10000, response_excerpt="", error="timed out"),
    ])
    db.commit()
    login_as(client, user)
    body = text_of(client.get(f"{base(store)}/{endpoint.id}/deliveries/{delivery.id}"))
    assert "upstream broke" in body and "31 ms" in body and "timed out" in body and "10000 ms" in body
    body_json = re.search(r"<pre><code>(.*?)</code></pre>", body, re.S).group(1)
    assert json.loads(body_json) == {"id": delivery.event_id, "type": "payment.completed",
                                     "createdAt": delivery.event.created_at.isoformat(), "storeId": store.id,
                                     "data": {"id": 42, "amount": 2500}}
    assert '\n  "id"' in body_json  # pretty-printed


def test_resend_sends_a_failed_delivery_again(client, db, user, store, receiver):
    endpoint = make_endpoint(db, store, url=receiver.url)
    delivery = add_delivery(db, endpoint)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}/deliveries/{delivery.id}"
    response = post_form(client, f"{page}/resend", page=page)
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    db.expire_all()
    assert delivery.status == DeliveryStatus.SUCCEEDED and receiver.event_ids() == [delivery.event_id]
    assert "queued again" in client.get(page).get_data(as_text=True)


def test_replay_sends_the_failed_deliveries_since_a_time_and_says_how_many(client, db, user, store, receiver):
    endpoint = make_endpoint(db, store, url=receiver.url)
    old = add_delivery(db, endpoint, minutes_ago=180)
    recent = [add_delivery(db, endpoint, minutes_ago=30) for _ in range(2)]
    add_delivery(db, endpoint, status=DeliveryStatus.SUCCEEDED, minutes_ago=30)
    since = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    response = post_form(client, f"{page}/replay", {"since": since}, page=page)
    assert response.status_code == 303
    assert sorted(receiver.event_ids()) == sorted(d.event_id for d in recent)
    db.expire_all()
    assert old.status == DeliveryStatus.FAILED
    assert "2 failed deliveries were queued again." in client.get(page).get_data(as_text=True)


def test_replay_needs_a_time(client, db, user, store):
    endpoint = make_endpoint(db, store)
    add_delivery(db, endpoint)
    login_as(client, user)
    page = f"{base(store)}/{endpoint.id}"
    response = post_form(client, f"{page}/replay", {"since": "yesterday"}, page=page, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="since-error"' in body
    assert db.scalar(sa.select(WebhookDelivery.status)) == DeliveryStatus.FAILED


# ---------------------------------------------------------------- roles and stores

def test_viewers_read_but_cannot_change_anything(client, db, user, store):
    endpoint = make_endpoint(db, store)
    delivery = add_delivery(db, endpoint)
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    page = f"{base(store)}/{endpoint.id}"
    shown = client.get(page).get_data(as_text=True)
    assert URL in shown and "Rotate secret" not in shown and "Send test event" not in shown and "Delete endpoint" not in shown
    assert client.get(f"{page}/deliveries/{delivery.id}").status_code == 200
    assert client.get(f"{base(store)}/new").status_code == 403
    for action in ("", "/disable", "/delete", "/rotate", "/test", "/replay", f"/deliveries/{delivery.id}/resend"):
        assert post_form(client, page + action, {"url": "https://x.example/", "events": ["payment.completed"],
                                                 "since": "2026-01-01T00:00"}, page=page).status_code == 403
    assert post_form(client, f"{base(store)}/new", {"url": URL, "events": ["payment.completed"]}, page=page).status_code == 403
    db.expire_all()
    assert endpoint.enabled and endpoint.url == URL and count(db, WebhookEndpoint) == 1 and count(db, WebhookEvent) == 1


def test_another_stores_endpoint_and_delivery_are_not_found(client, db, user, store):
    other = make_store(db, owner=make_user(db), slug="other")
    theirs = make_endpoint(db, other)
    delivery = add_delivery(db, theirs)
    mine = make_endpoint(db, store)
    login_as(client, user)
    assert client.get(f"{base(store)}/{theirs.id}").status_code == 404
    assert client.get(f"{base(store)}/{mine.id}/deliveries/{delivery.id}").status_code == 404
    assert post_form(client, f"{base(store)}/{theirs.id}/delete", page=base(store)).status_code == 404
    assert client.get(f"{base(other)}/{theirs.id}").status_code == 404
    assert count(db, WebhookEndpoint) == 2
