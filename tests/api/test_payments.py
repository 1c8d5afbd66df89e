"""JSON API: /api/stores/<id>/payments — shape, filters, keyset pages, detail, CSV export;
another store's ids are 404; API keys and viewers read."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from checkie.payments.models import PaymentStatus
from checkie.stores.api_keys import create_api_key
from tests.factories import make_checkout, make_customer, make_page, make_payment, make_store
from tests.http import access_token_for, bearer

PAYMENT_KEYS = {"id", "amount", "fee", "net", "currency", "status", "amountRefunded", "customerId", "checkoutSessionId",
                "createdAt", "needsReview", "reviewReason", "email", "pageId",
                "pageTitle", "lineItems", "customFields", "couponCode"}


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def test_detail_shape(client, db, store, auth):
    customer = make_customer(db, store)
    checkout = make_checkout(db, make_page(db, store))
    payment = make_payment(db, store, amount=2500, customer=customer, session=checkout, refunded=500,
                           status=PaymentStatus.PARTIALLY_REFUNDED)
    db.commit()
    body = client.get(f"/api/stores/{store.id}/payments/{payment.id}", headers=auth).json
    assert set(body) == PAYMENT_KEYS
    assert body == {
        "id": payment.id, "amount": 2500, "fee": 73, "net": 2427, "currency": "USD", "status": "partially_refunded",
        "amountRefunded": 500, "customerId": customer.id, "checkoutSessionId": checkout.id, "pageId": checkout.page_id,
        "email": "buyer@example.com", "needsReview": False, "reviewReason": None, "createdAt": body["createdAt"],
        "pageTitle": None, "lineItems": [], "customFields": [], "couponCode": None,
    }
    assert datetime.fromisoformat(body["createdAt"]) == payment.created_at


def test_list_filters_and_pages(client, db, store, auth):
    a = make_payment(db, store, email="ann@example.com", created_at=at("2024-03-10"))
    b = make_payment(db, store, email="bob@example.com", created_at=at("2024-03-11"), needs_review=True,
                     review_reason="late")
    c = make_payment(db, store, email="ann@example.com", created_at=at("2024-03-12"), status=PaymentStatus.REFUNDED,
                     refunded=2500)
    db.commit()
    base = f"/api/stores/{store.id}/payments"

    def ids(**query):
        response = client.get(base, query_string=query, headers=auth)
        assert response.status_code == 200, response.json
        return [p["id"] for p in response.json["data"]]

    assert ids() == [c.id, b.id, a.id]
    assert ids(status="refunded") == [c.id]
    assert ids(email="ann@example.com") == [c.id, a.id]
    assert ids(**{"from": "2024-03-11", "to": "2024-03-11"}) == [b.id]
    assert ids(needsReview="true") == [b.id]
    page = client.get(base, query_string={"limit": 2}, headers=auth).json
    assert [p["id"] for p in page["data"]] == [c.id, b.id] and page["nextCursor"]
    rest = client.get(base, query_string={"limit": 2, "cursor": page["nextCursor"]}, headers=auth).json
    assert [p["id"] for p in rest["data"]] == [a.id] and rest["nextCursor"] is None


def test_bad_filters_are_422(client, store, auth):
    base = f"/api/stores/{store.id}/payments"
    for query in ({"status": "lost"}, {"from": "yesterday"}, {"cursor": "!!"}, {"limit": 0}):
        response = client.get(base, query_string=query, headers=auth)
        assert response.status_code == 422 and response.json["error"]["code"] == "validation_error", query


def test_export_is_csv_with_the_filters(client, db, store, auth):
    make_payment(db, store, amount=1250, email="ann@example.com", created_at=at("2024-03-10"))
    make_payment(db, store, amount=999, email="bob@example.com", created_at=at("2024-03-12"))
    db.commit()
    response = client.get(f"/api/stores/{store.id}/payments/export", query_string={"to": "2024-03-11"}, headers=auth)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"], r["amount"], r["amount_minor"]) for r in rows] == [("ann@example.com", "12.50", "1250")]


def test_another_stores_payment_is_404(client, db, store, auth):
    other = make_store(db, name="Other")
    foreign = make_payment(db, other)
    db.commit()
    assert client.get(f"/api/stores/{store.id}/payments/{foreign.id}", headers=auth).status_code == 404
    for path in ("payments", "payments/export", f"payments/{foreign.id}"):
        response = client.get(f"/api/stores/{other.id}/{path}", headers=auth)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found", path


def test_an_api_key_reads_its_store(client, db, store, user):
    _, secret = create_api_key(db, store, name="Reader", created_by=user)
    make_payment(db, store)
    db.commit()
    response = client.get(f"/api/stores/{store.id}/payments", headers=bearer(secret))
    assert response.status_code == 200 and len(response.json["data"]) == 1
    assert client.get(f"/api/stores/{store.id}/payments").status_code == 401
