from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def test_schema_comes_from_migrations(db):
    version = db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_store_fixture_makes_owner_member(db, store, user):
    from checkie.stores.access import store_for_user
    from checkie.stores.models import Role

    found, role = store_for_user(db, user.id, store.id, required=Role.OWNER)
    assert found.id == store.id and role is Role.OWNER
