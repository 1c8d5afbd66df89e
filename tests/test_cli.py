"""`flask seed-demo`: the demo merchant `make run` prints must exist once and be able to log in."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.accounts.models import User
from checkie.cli import DEMO_CURRENCY, DEMO_EMAIL, DEMO_PASSWORD, DEMO_STORE_NAME
from checkie.extensions import db as _db
from checkie.stores.models import Role, Store, StoreMember


def _demo_rows(app):
    with app.app_context():
        users = _db.session.scalars(sa.select(User).where(User.email == DEMO_EMAIL)).all()
        stores = _db.session.scalars(sa.select(Store).where(Store.name == DEMO_STORE_NAME)).all()
        members = _db.session.scalars(sa.select(StoreMember).where(StoreMember.email == DEMO_EMAIL)).all()
        rows = (users, stores, members)
        _db.session.remove()
        return rows


def test_seed_demo_creates_the_demo_merchant_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    for output in (first.output, second.output):
        assert DEMO_EMAIL in output and DEMO_PASSWORD in output
        assert app.config["APP_URL"] in output
    users, stores, members = _demo_rows(app)
    assert len(users) == 1 and users[0].email_verified_at is not None
    assert len(stores) == 1 and stores[0].currency == DEMO_CURRENCY and stores[0].owner_id == users[0].id
    assert [(m.store_id, m.role) for m in members] == [(stores[0].id, Role.OWNER)]


def test_demo_credentials_log_in(app, client):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0

    response = client.post("/api/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["user"]["email"] == DEMO_EMAIL


def test_seed_demo_is_refused_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "CHECKIE_ENV", "production")

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code != 0
    assert "production" in result.output
    users, stores, _ = _demo_rows(app)
    assert users == [] and stores == []


def test_the_demo_store_has_a_published_page_a_newcomer_can_buy_with_the_test_card(app, client):
    runner = app.test_cli_runner()
    output = runner.invoke(args=["seed-demo"]).output
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        store = _db.session.scalar(sa.select(Store).where(Store.name == DEMO_STORE_NAME))
        url = f"/c/{store.slug}/t-shirt"
        _db.session.remove()
    assert url in output
    opened = client.get(url)
    assert opened.status_code == 200
    page = opened.get_data(as_text=True)
    assert "Demo T-shirt" in page and "$25.00" in page and "Name to print on the back" in page
