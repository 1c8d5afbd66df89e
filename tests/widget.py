"""The checkout widget's own requests (/api/widget), as the embedded frame sends them."""
from __future__ import annotations

from checkie.catalog.models import Page
from checkie.stores.models import Store

WIDGET = "/api/widget"
#: make_shop's overrides for the shop these tests know: a $25 "t-shirt" without a success URL.
WIDGET_SHOP = {"amount": 2500, "slug": "t-shirt", "description": "Soft cotton.", "success_url": None}


def open_checkout(client, store: Store, page: Page) -> dict:
    response = client.get(f"{WIDGET}/pages/{store.slug}/{page.slug}")
    assert response.status_code == 200, response.json
    return response.json


def patch_session(client, session_id: str, body: dict):
    return client.patch(f"{WIDGET}/sessions/{session_id}", json=body)


def fill_in(client, session_id: str, **extra) -> dict:
    """Everything a payment needs: an email and the required field."""
    response = patch_session(client, session_id, {
        "email": "shopper@example.com", "name": "Sam Shopper", "customFields": {"company": "Initech"}, **extra,
    })
    assert response.status_code == 200, response.json
    return response.json


def pay(client, session_id: str, method: str = "pm_card_visa", headers: dict | None = None):
    return client.post(f"{WIDGET}/checkout", json={"sessionId": session_id, "paymentMethod": method},
                       headers=headers or {})


def status(client, session_id: str) -> dict:
    response = client.get(f"{WIDGET}/sessions/{session_id}/status")
    assert response.status_code == 200, response.json
    return response.json
