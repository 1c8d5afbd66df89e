"""Data migrations run on a scratch database of each kind the app supports (PostgreSQL, and the
embedded profile's SQLite), from the revision before them, on rows written the old way (made
with today's models, then the schema taken back to that revision)."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from checkie import create_app
from checkie.catalog.models import Embed, EmbedType
from checkie.extensions import db
from tests.apps import TEST_APP_SETTINGS, admin_sql
from checkie.checkout.models import CheckoutState
from checkie.payments.models import Payment
from checkie.stores.models import Store
from tests.factories import make_checkout, make_coupon, make_field, make_page, make_payment, make_store

BEFORE_SNAKE_CASE = "0007_user_sessions"
BEFORE_LINES = "0008_embed_settings_snake_case"
OLD_SETTINGS = {"buttonText": "Get it", "theme": "dark", "brandColor": "#0e7c66"}
NEW_SETTINGS = {"button_text": "Get it", "theme": "dark", "brand_color": "#0e7c66"}


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_app(request, tmp_path):
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'scratch.db'}", None
    else:
        name = f"checkie_scratch_{uuid.uuid4().hex[:8]}"
        admin_sql(f'CREATE DATABASE "{name}"')
        url, drop = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}", name
    app = create_app({**TEST_APP_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {}})
    yield app
    with app.app_context():
        db.engine.dispose()
    if drop:
        admin_sql(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


def _ids(page) -> tuple[int, int]:
    return page.store_id, page.id


def _settings() -> list[dict]:
    return list(db.session.scalars(sa.select(Embed.settings).order_by(Embed.id)))


def _downgraded_with(revision: str, make):
    """Rows made by `make()` with today's models (at head), then the schema taken back to
    `revision`: rows written the old way, for the migrations after it to meet."""
    upgrade()
    made = make()
    db.session.commit()
    db.session.remove()
    downgrade(revision=revision)
    return made


def test_embed_settings_move_to_snake_case_and_back(scratch_app):
    with scratch_app.app_context():
        store_id, page_id = _downgraded_with(BEFORE_SNAKE_CASE, lambda: _ids(make_page(db.session, make_store(db.session))))
        for settings in (OLD_SETTINGS, {"theme": "auto"}):
            db.session.add(Embed(public_id=f"emb_{uuid.uuid4().hex[:16]}", store_id=store_id, page_id=page_id,
                                 type=EmbedType.BUTTON, settings=settings, allowed_origins=[]))
        db.session.commit()
        upgrade()
        assert _settings() == [NEW_SETTINGS, {"theme": "auto"}]
        db.session.remove()
        downgrade(revision=BEFORE_SNAKE_CASE)
        assert _settings() == [OLD_SETTINGS, {"theme": "auto"}]


def _cake_payments() -> tuple[int, int, int]:
    """A paid cake checkout (two variants, two answers, a coupon), a payment whose session is
    gone, and a store; the payments carry no line, as before 0009."""
    store = make_store(db.session)
    page = make_page(db.session, store, title="Birthday cake", amount=3000,
                     variants={"Size": {"Small": 0, "Large": 500}, "Filling": {"Chocolate": 0, "Lemon": 200}})
    make_field(db.session, page, label="Pick-up date", type="date", key="pickup_date")
    make_field(db.session, page, label="Message", type="textarea", key="message")
    coupon = make_coupon(db.session, store, code="BDAY10")
    checkout = make_checkout(db.session, page, state=CheckoutState.COMPLETED, options={"Size": "Large"}, coupon=coupon)
    checkout.custom_fields = {"pickup_date": "2026-12-20", "message": "Happy 30th, Bob!"}
    checkout.subtotal, checkout.discount, checkout.total = 3500, 350, 3150
    paid = make_payment(db.session, store, amount=3150, session=checkout)
    orphan = make_payment(db.session, store, amount=3000, page_id=page.id)
    return paid.id, orphan.id, store.id


def test_existing_payments_get_their_line_from_their_session(scratch_app):
    with scratch_app.app_context():
        paid_id, orphan_id, store_id = _downgraded_with(BEFORE_LINES, _cake_payments)
        upgrade()
        paid, orphan = db.session.get(Payment, paid_id), db.session.get(Payment, orphan_id)
        assert paid is not None and orphan is not None
        assert paid.line["page"]["title"] == "Birthday cake"
        assert paid.line["items"] == [{"variant": "Size", "option": "Large", "price_delta": 500},
                                      {"variant": "Filling", "option": "Chocolate", "price_delta": 0}]
        assert paid.line["answers"] == [
            {"key": "pickup_date", "label": "Pick-up date", "type": "date", "value": "2026-12-20"},
            {"key": "message", "label": "Message", "type": "textarea", "value": "Happy 30th, Bob!"},
        ]
        assert paid.line["coupon"] == {"code": "BDAY10", "discount": 350}
        assert (paid.line["subtotal"], paid.line["discount"], paid.line["total"]) == (3500, 350, 3150)
        assert orphan.line == {"page": {"id": paid.line["page"]["id"], "title": "Birthday cake"}, "price": 3000,
                               "items": [], "answers": [], "coupon": None, "subtotal": 3000, "discount": 0,
                               "total": 3000, "currency": "USD"}
        assert db.session.get(Store, store_id).notify_new_sale is True


BEFORE_SUBSCRIPTIONS = "0012_payouts"
SUBSCRIPTION_TABLES = {"subscriptions", "subscription_renewals", "subscription_events", "test_clocks"}


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_0013_adds_the_subscription_tables_and_takes_them_back(scratch_app):
    with scratch_app.app_context():
        upgrade()
        assert SUBSCRIPTION_TABLES <= _tables()
        assert "subscription_id" in {c["name"] for c in sa.inspect(db.engine).get_columns("payments")}
        downgrade(revision=BEFORE_SUBSCRIPTIONS)
        assert not SUBSCRIPTION_TABLES & _tables()
        assert "subscription_id" not in {c["name"] for c in sa.inspect(db.engine).get_columns("payments")}
        assert "trial_days" not in {c["name"] for c in sa.inspect(db.engine).get_columns("checkout_sessions")}
        upgrade()
        assert SUBSCRIPTION_TABLES <= _tables()
