"""Data migrations run on a scratch database of each kind the app supports (PostgreSQL, and the
embedded profile's SQLite), from the revision before them, on rows written the old way."""
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
from tests.factories import make_page, make_store

BEFORE_SNAKE_CASE = "0007_user_sessions"
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


def _settings() -> list[dict]:
    return list(db.session.scalars(sa.select(Embed.settings).order_by(Embed.id)))


def test_embed_settings_move_to_snake_case_and_back(scratch_app):
    with scratch_app.app_context():
        upgrade(revision=BEFORE_SNAKE_CASE)
        page = make_page(db.session, make_store(db.session))
        for settings in (OLD_SETTINGS, {"theme": "auto"}):
            db.session.add(Embed(public_id=f"emb_{uuid.uuid4().hex[:16]}", store_id=page.store_id, page_id=page.id,
                                 type=EmbedType.BUTTON, settings=settings, allowed_origins=[]))
        db.session.commit()
        upgrade()
        assert _settings() == [NEW_SETTINGS, {"theme": "auto"}]
        db.session.remove()
        downgrade(revision=BEFORE_SNAKE_CASE)
        assert _settings() == [OLD_SETTINGS, {"theme": "auto"}]
