"""JSON API: /api/stores/<id>/checkout-sessions — list (state filter, cursor) and the merchant's
detail view with transitions and attempts; another store's ids are 404."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checkie.checkout.models import CheckoutState as S
from checkie.database import utcnow
from checkie.pagination import encode_cursor
from checkie.payments.models import AttemptStatus
from tests.factories import make_attempt, make_checkout, make_page, make_store
from tests.http import access_token_for, bearer

LIST_KEYS = {"id", "state", "pageId", "email", "name", "amount", "attemptCount", "expiresAt", "createdAt", "completedAt"}


def test_detail_has_transitions_and_attempts(client, db, store, auth):
    checkout = make_checkout(db, make_page(db, store), state=S.OPEN, total=3000, history=[
        (S.OPEN, "INITIATE_PAYMENT", S.PROCESSING), (S.PROCESSING, "PAYMENT_FAILED", S.OPEN)])
    make_attempt(db, checkout, status=AttemptStatus.FAILED, intent_id="pi_one", failure_code="card_declined")
    db.commit()
    body = client.get(f"/api/stores/{store.id}/checkout-sessions/{checkout.id}", headers=auth).json
    assert set(body) == LIST_KEYS | {"transitions", "attempts", "lineItems", "customFields", "couponCode",
                                     "subscriptionId"}
    assert body["amount"] == {"subtotal": 3000, "discount": 0, "total": 3000, "currency": "USD", "dueNow": 3000}
    assert (body["id"], body["state"], body["pageId"], body["attemptCount"]) == (checkout.id, "open", checkout.page_id, 1)
    assert [(t["from"], t["event"], t["to"]) for t in body["transitions"]] == [
        ("open", "INITIATE_PAYMENT", "processing"), ("processing", "PAYMENT_FAILED", "open")]
    assert all("at" in t for t in body["transitions"])
    assert body["attempts"] == [{"number": 1, "status": "failed", "providerIntentId": "pi_one", "failureCode": "card_declined"}]


def test_list_filters_by_state_and_pages(client, db, store, auth):
    now = utcnow()
    made = [make_checkout(db, make_page(db, store), state=S.EXPIRED if n == 0 else S.OPEN, created_at=now - timedelta(minutes=5 - n))
            for n in range(3)]
    db.commit()
    base = f"/api/stores/{store.id}/checkout-sessions"
    first = client.get(base, query_string={"limit": 2}, headers=auth).json
    assert [s["id"] for s in first["data"]] == [made[2].id, made[1].id] and set(first["data"][0]) == LIST_KEYS
    rest = client.get(base, query_string={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json
    assert [s["id"] for s in rest["data"]] == [made[0].id] and rest["nextCursor"] is None
    expired = client.get(base, query_string={"state": "expired"}, headers=auth).json
    assert [s["id"] for s in expired["data"]] == [made[0].id]
    assert client.get(base, query_string={"cursor": "bm9wZQ"}, headers=auth).status_code == 422
    assert client.get(base, query_string={"state": "lost"}, headers=auth).status_code == 422


def test_another_stores_session_is_404(client, db, store, auth):
    other = make_store(db, name="Other")
    foreign = make_checkout(db, make_page(db, other))
    db.commit()
    assert client.get(f"/api/stores/{store.id}/checkout-sessions/{foreign.id}", headers=auth).status_code == 404
    assert client.get(f"/api/stores/{other.id}/checkout-sessions", headers=auth).status_code == 404
    # A cursor naming another store's session is refused, never a peek into it.
    response = client.get(
        f"/api/stores/{store.id}/checkout-sessions", query_string={"cursor": encode_cursor(foreign.id)}, headers=auth
    )
    assert response.status_code == 422
