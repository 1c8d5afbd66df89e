"""JSON API: what was ordered (issue 10, item 1) — `lineItems` and `customFields` on a payment
and on the merchant's checkout-session view (frozen once paid, the current selection before),
the CSV export's line and field columns, and the store's `notifyNewSale`; each answer matches
the OpenAPI document."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from checkie.catalog.fields import update_field
from checkie.catalog.models import CustomField
from tests.api.contract import schema
from tests.factories import cake_choice, make_cake, open_checkout, paid_cake
from tests.http import access_token_for, bearer

LINE_ITEMS = [{"variant": "Size", "option": "Large", "priceDelta": 500},
              {"variant": "Filling", "option": "Lemon", "priceDelta": 200}]
CUSTOM_FIELDS = [
    {"key": "pickup_date", "label": "Pick-up date", "type": "date", "value": "2026-12-20"},
    {"key": "message", "label": "Message", "type": "textarea", "value": "Happy 30th, Bob!"},
]


def documented_get(app, auth, path: str, **path_parameters):
    """GET through the OpenAPI document's operation, checked against what it documents."""
    case = schema[path]["GET"].Case(path_parameters=path_parameters, headers=auth)
    response = case.call(app=app)
    case.validate_response(response)
    return response.json()


def test_payment_answers_its_frozen_line(app, db, store, auth):
    payment = paid_cake(db, make_cake(db, store))
    db.commit()
    message = db.scalars(sa.select(CustomField).where(CustomField.key == "message")).one()
    update_field(db, message, label="Writing on the cake")
    db.commit()

    body = documented_get(app, auth, "/api/stores/{store_id}/payments/{payment_id}",
                          store_id=store.id, payment_id=payment.id)
    assert body["lineItems"] == LINE_ITEMS and body["customFields"] == CUSTOM_FIELDS
    assert (body["pageTitle"], body["couponCode"]) == ("Birthday cake", "BDAY10")


def test_session_view_answers_the_paid_line_or_the_current_selection(app, db, store, auth):
    cake = make_cake(db, store)
    payment = paid_cake(db, cake)
    unpaid = open_checkout(db, cake, email="cy@example.com", variant_options=cake_choice(cake, "Small", "Chocolate"),
                           custom_fields={"pickup_date": "2026-12-24"})
    db.commit()
    path = "/api/stores/{store_id}/checkout-sessions/{session_id}"

    paid = documented_get(app, auth, path, store_id=store.id, session_id=payment.session_id)
    assert paid["lineItems"] == LINE_ITEMS and paid["customFields"] == CUSTOM_FIELDS and paid["couponCode"] == "BDAY10"
    current = documented_get(app, auth, path, store_id=store.id, session_id=unpaid.id)
    assert current["lineItems"] == [{"variant": "Size", "option": "Small", "priceDelta": 0},
                                    {"variant": "Filling", "option": "Chocolate", "priceDelta": 0}]
    assert current["customFields"] == [{"key": "pickup_date", "label": "Pick-up date", "type": "date",
                                        "value": "2026-12-24"}]
    assert current["couponCode"] is None


def test_export_filtered_by_page_has_a_column_per_field(client, db, store, auth):
    cake = make_cake(db, store)
    paid_cake(db, cake)
    db.commit()
    response = client.get(f"/api/stores/{store.id}/payments/export", query_string={"pageId": cake.id}, headers=auth)
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert (row["field:pickup_date"], row["field:message"]) == ("2026-12-20", "Happy 30th, Bob!")
    assert row["line"].startswith("Birthday cake; Size: Large (+$5.00)")


def test_store_body_has_notify_new_sale(client, db, store, auth):
    url = f"/api/stores/{store.id}"
    assert client.get(url, headers=auth).json["notifyNewSale"] is True
    response = client.patch(url, json={"notifyNewSale": False}, headers=auth)
    assert response.status_code == 200 and response.json["notifyNewSale"] is False
    db.expire_all()
    assert store.notify_new_sale is False
    for not_a_boolean in ("sometimes", 0, "true"):
        refused = client.patch(url, json={"notifyNewSale": not_a_boolean}, headers=auth)
        assert refused.status_code == 422 and "notifyNewSale" in refused.json["error"]["fields"]
