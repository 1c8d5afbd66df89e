"""Factories for the hosted checkout tests: a published page with a variant, custom fields and
a coupon, built through the catalog services."""
from __future__ import annotations

import re

from checkie.catalog import fields, variants
from checkie.catalog.coupons import create_coupon
from checkie.catalog.models import Page
from checkie.catalog.pages import create_page, publish_page
from checkie.stores.models import Store

SESSION_URL = re.compile(r"/c/s/(cs_[A-Za-z0-9_-]+)$")


def make_shop_page(db, store: Store, *, amount: int = 2000, publish: bool = True, slug: str = "tee",
                   success_url: str | None = "https://shop.example/thanks") -> Page:
    """A "T-shirt" (amount minor units) with a Size variant (S +0, L +500), a required text field
    `company` and an optional select `colour`; coupons allowed (SAVE10: 10 % off)."""
    page = create_page(db, store, title="T-shirt", slug=slug, amount=amount, allow_coupons=True,
                       description="Soft organic cotton.", success_url=success_url)
    variant = variants.add_variant(db, page, name="Size")
    variants.add_option(db, variant, name="S", price_delta=0)
    variants.add_option(db, variant, name="L", price_delta=500)
    fields.create_field(db, page, label="Company", key="company", type="text", required=True)
    fields.create_field(db, page, label="Colour", key="colour", type="select", required=False, options=["Red", "Blue"])
    create_coupon(db, store, code="SAVE10", percent_off=10)
    if publish:
        publish_page(db, page)
    db.flush()
    return page


def session_id_from(location: str) -> str:
    match = SESSION_URL.search(location)
    assert match, f"not a checkout session URL: {location}"
    return match.group(1)
