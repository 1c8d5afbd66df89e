"""Factories and helpers for the widget API tests: a published page a shopper can buy, and
shortcuts for the widget's own requests."""
from __future__ import annotations

from dataclasses import dataclass

from checkie.catalog import embeds, fields, pages, variants
from checkie.catalog.coupons import create_coupon
from checkie.catalog.models import Coupon, Embed, Page
from checkie.stores.models import Store

WIDGET = "/api/widget"


@dataclass
class Shop:
    """A published page with one variant (Size: S +0, L +500) and two fields
    (company: required text; color: optional select)."""

    page: Page
    small: int
    large: int
    size: int


def make_shop(db, store: Store, *, amount: int = 2500, slug: str = "t-shirt", publish: bool = True,
              allow_coupons: bool = True) -> Shop:
    page = pages.create_page(db, store, title="T-shirt", slug=slug, description="Soft cotton.", amount=amount,
                             allow_coupons=allow_coupons)
    size = variants.add_variant(db, page, name="Size")
    small = variants.add_option(db, size, name="S", price_delta=0)
    large = variants.add_option(db, size, name="L", price_delta=500)
    fields.create_field(db, page, label="Company", key="company", type="text", required=True)
    fields.create_field(db, page, label="Color", key="color", type="select", options=["Red", "Blue"])
    if publish:
        pages.publish_page(db, page)
    db.flush()
    return Shop(page=page, small=small.id, large=large.id, size=size.id)


def make_coupon(db, store: Store, *, code: str = "SAVE10", **terms) -> Coupon:
    if "percent_off" not in terms and "amount_off" not in terms:
        terms["percent_off"] = 10
    if "amount_off" in terms and "currency" not in terms:
        terms["currency"] = store.currency
    return create_coupon(db, store, code=code, **terms)


def make_embed(db, page: Page, **options) -> Embed:
    return embeds.create_embed(db, page, type=options.pop("type", "inline"), **options)


def open_session(client, store: Store, page: Page) -> dict:
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
