"""webhooks.services, endpoints (SPEC §7): created with a secret shown once and kept encrypted,
edited, disabled and enabled, rotated (the old secret signs 24 hours more), deleted; bad input
is refused field by field and writes nothing; one store never reaches another's endpoints."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.database import utcnow
from checkie.errors import Conflict, NotFound, ValidationFailed
from checkie.webhooks import services
from checkie.webhooks.models import WebhookEndpoint
from tests.factories import make_store, make_user

URL = "https://hooks.example.com/checkie"


def count_endpoints(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint))


def make_endpoint(db, store, **fields):
    values = {"url": URL, "events": ["payment.completed"], "description": "Orders"} | fields
    endpoint, secret = services.create_endpoint(db, store, **values)
    db.commit()
    return endpoint, secret


def test_create_shows_the_secret_once_and_keeps_it_encrypted(db, store, app):
    endpoint, secret = make_endpoint(db, store, events=["payment.completed", "customer.created", "payment.completed"])

    assert secret.startswith("whsec_")
    assert secret not in endpoint.secret_encrypted
    assert endpoint.signing_secrets(app.config["ENCRYPTION_KEY"], now=utcnow()) == [secret]
    assert (endpoint.store_id, endpoint.url, endpoint.description) == (store.id, URL, "Orders")
    assert endpoint.events == ["payment.completed", "customer.created"]
    assert endpoint.enabled and endpoint.disabled_reason is None


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"url": "ftp://files.example.com/in"}, "url", "http"),
    ({"url": "javascript:alert(1)"}, "url", "http"),
    ({"url": "   "}, "url", "Enter the URL"),
    ({"url": "https://example.com/" + "a" * 2000}, "url", "at most 2000"),
    ({"events": []}, "events", "at least one"),
    ({"events": "payment.completed"}, "events", "at least one"),
    ({"events": ["payment.completed", "payment.teleported"]}, "events", "payment.teleported"),
    ({"events": ["ping"]}, "events", "Unknown event type"),
    ({"events": [None]}, "events", "Unknown event type"),
    ({"description": "x" * 501}, "description", "at most 500"),
])
def test_bad_fields_are_refused_and_nothing_is_written(db, store, fields, field, words):
    with pytest.raises(ValidationFailed) as refused:
        make_endpoint(db, store, **fields)
    db.rollback()

    assert list(refused.value.fields) == [field]
    assert words in refused.value.fields[field][0]
    assert count_endpoints(db) == 0


def test_every_wrong_field_is_reported_at_once(db, store):
    with pytest.raises(ValidationFailed) as refused:
        make_endpoint(db, store, url="gopher://x", events=[], description="y" * 600)

    assert sorted(refused.value.fields) == ["description", "events", "url"]


def test_a_private_address_is_refused_when_private_urls_are_not_allowed(db, store, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)

    with pytest.raises(ValidationFailed) as refused:
        make_endpoint(db, store, url="http://127.0.0.1:8080/hooks")

    assert list(refused.value.fields) == ["url"]


def test_update_changes_what_is_given_and_checks_it(db, store):
    endpoint, _ = make_endpoint(db, store)

    services.update_endpoint(db, endpoint, events=["customer.created"], description="")
    db.commit()
    assert (endpoint.url, endpoint.events, endpoint.description) == (URL, ["customer.created"], "")

    with pytest.raises(ValidationFailed) as refused:
        services.update_endpoint(db, endpoint, url="file:///etc/passwd", events=["refund.maybe"])
    db.rollback()
    assert sorted(refused.value.fields) == ["events", "url"]
    assert db.get(WebhookEndpoint, endpoint.id).events == ["customer.created"]


def test_disabling_and_enabling_clears_the_reason_and_the_run_of_failures(db, store):
    endpoint, _ = make_endpoint(db, store)
    endpoint.disable(reason="The endpoint answered 410 Gone.")
    endpoint.consecutive_failures, endpoint.failing_since = 12, utcnow() - timedelta(hours=30)
    db.commit()

    services.update_endpoint(db, endpoint, enabled=True)
    db.commit()
    assert endpoint.enabled and endpoint.disabled_reason is None and endpoint.disabled_at is None
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)

    services.update_endpoint(db, endpoint, enabled=False)
    db.commit()
    assert not endpoint.enabled and endpoint.disabled_at is not None and endpoint.disabled_reason is None


def test_rotation_keeps_the_old_secret_signing_for_24_hours(db, store, app):
    endpoint, old = make_endpoint(db, store)
    key = app.config["ENCRYPTION_KEY"]

    new = services.rotate_secret(db, endpoint)
    db.commit()

    assert new.startswith("whsec_") and new != old
    assert endpoint.signing_secrets(key, now=utcnow()) == [new, old]
    assert endpoint.signing_secrets(key, now=utcnow() + timedelta(hours=23, minutes=59)) == [new, old]
    assert endpoint.signing_secrets(key, now=utcnow() + timedelta(hours=24, seconds=1)) == [new]


def test_rotating_a_deleted_endpoint_is_not_found(db, store):
    endpoint, _ = make_endpoint(db, store)
    stale = db.get(WebhookEndpoint, endpoint.id)
    services.delete_endpoint(db, endpoint)
    db.commit()

    with pytest.raises(NotFound):
        services.rotate_secret(db, stale)
    assert count_endpoints(db) == 0


def test_a_test_event_to_a_disabled_endpoint_is_refused(db, store):
    endpoint, _ = make_endpoint(db, store)
    services.update_endpoint(db, endpoint, enabled=False)
    db.commit()

    with pytest.raises(Conflict):
        services.send_test_event(db, endpoint)


def test_another_stores_endpoint_is_not_found(db, store):
    other = make_store(db, owner=make_user(db, email="rival@example.com"), name="Rival", slug="rival")
    mine, _ = make_endpoint(db, store)
    theirs, _ = make_endpoint(db, other)

    assert services.get_endpoint(db, store.id, mine.id) is mine
    assert [e.id for e in services.list_endpoints(db, store.id)] == [mine.id]
    for endpoint_id in (theirs.id, 0, 2**63):
        with pytest.raises(NotFound):
            services.get_endpoint(db, store.id, endpoint_id)
