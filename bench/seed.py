"""Seed the benchmark database through Checkie's own services (run by `bench/run` with the
production environment): a merchant, a store, and a published one-time page with 2 variants
and 5 custom fields (SPEC §12). Prints what the load generators need as one JSON line (the
merchant's login included, for bench/dashboard_load.py)."""
from __future__ import annotations

import json
import secrets

from checkie import create_app
from checkie.accounts.services import create_user
from checkie.catalog import fields, pages, variants
from checkie.extensions import db
from checkie.stores.services import create_store


def seed() -> dict:
    session = db.session
    password = secrets.token_urlsafe(24)
    owner = create_user(session, email=f"bench-{secrets.token_hex(4)}@example.com",
                        password=password, name="Bench Merchant", verified=True)
    session.flush()
    store = create_store(session, owner=owner, name="Bench Store", currency="USD", slug="bench-store")
    # USD 25 + at most 10: below the test provider's 3-D Secure threshold (100), so a visa card succeeds at once.
    page = pages.create_page(session, store, title="Bench T-shirt", slug="t-shirt", amount=2500,
                             description="Organic cotton, printed to order.")
    size = variants.add_variant(session, page, name="Size")
    size_options = [variants.add_option(session, size, name=name, price_delta=delta)
                    for name, delta in (("S", 0), ("M", 0), ("L", 500))]
    color = variants.add_variant(session, page, name="Color")
    color_options = [variants.add_option(session, color, name=name, price_delta=delta)
                     for name, delta in (("Black", 0), ("Natural", 0), ("Indigo", 300))]
    fields.create_field(session, page, label="Company", key="company", type="text", required=True)
    fields.create_field(session, page, label="Phone", key="phone", type="phone")
    fields.create_field(session, page, label="Gift wrap", key="gift_wrap", type="checkbox")
    fields.create_field(session, page, label="Delivery", key="delivery", type="select",
                        options=["Standard", "Express"], required=True)
    fields.create_field(session, page, label="Note for the printer", key="note", type="textarea")
    pages.publish_page(session, page)
    session.commit()
    return {
        "store": store.slug, "page": page.slug, "owner": {"email": owner.email, "password": password},
        "variantOptions": {str(size.id): size_options[2].id, str(color.id): color_options[2].id},
        "customFields": {"company": "Initech", "phone": "+1 555 0100", "gift_wrap": True,
                         "delivery": "Express", "note": "Please fold, do not roll."},
    }


if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        print(json.dumps(seed()))
