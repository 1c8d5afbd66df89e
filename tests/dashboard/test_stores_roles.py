"""Every mutating dashboard route refuses viewers (403), and owner-only ones refuse admins."""
import pytest
import sqlalchemy as sa

from checkie.stores.api_keys import create_api_key
from checkie.stores.models import ApiKey, Role, Store, StoreMember
from tests.factories import add_member, make_user
from tests.http import HX, login_as, post_form


@pytest.fixture
def world(db, user, store):
    """A store with an admin, a viewer, another member and an API key."""
    people = {role: make_user(db, email=f"{role.value}@example.com") for role in (Role.ADMIN, Role.VIEWER)}
    for role, person in people.items():
        add_member(db, store, person, role=role)
    target = add_member(db, store, make_user(db, email="target@example.com"), role=Role.VIEWER)
    key, _ = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    return {"people": people, "member_id": target.id, "key_id": key.id, "store": store}


MUTATIONS = [
    ("stores.update", "/settings", {"name": "Hijacked", "slug": "acme", "currency": "USD"}),
    ("stores.delete", "/delete", {"confirm_name": "Acme Goods"}),
    ("team.invite", "/team/invitations", {"email": "x@example.com", "role": "admin"}),
    ("team.change_role", "/team/{member_id}/role", {"role": "admin"}),
    ("team.remove", "/team/{member_id}/remove", {}),
    ("api_keys.create", "/api-keys", {"name": "Sneaky"}),
    ("api_keys.revoke", "/api-keys/{key_id}/revoke", {}),
    ("payment_settings.update", "/payment-settings", {"provider": "test"}),
    ("payment_settings.test_connection", "/payment-settings/test", {}),
]
OWNER_ONLY = {"stores.delete", "team.invite", "team.change_role", "team.remove"}


def snapshot(db):
    db.expire_all()
    return (
        db.scalar(sa.select(Store.name)),
        sorted((m.email, m.role.value) for m in db.scalars(sa.select(StoreMember))),
        sorted((k.name, k.revoked_at is None) for k in db.scalars(sa.select(ApiKey))),
    )


@pytest.mark.parametrize("endpoint, path, data", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_viewer_gets_403_on_every_mutation_and_nothing_changes(client, db, world, endpoint, path, data):
    login_as(client, world["people"][Role.VIEWER])
    before = snapshot(db)
    base = f"/dashboard/stores/{world['store'].id}"
    url = base + path.format(**world)
    for headers in ({}, HX):
        assert post_form(client, url, data, page=base, headers=headers).status_code == 403
    assert snapshot(db) == before


@pytest.mark.parametrize("endpoint, path, data", [m for m in MUTATIONS if m[0] in OWNER_ONLY], ids=sorted(OWNER_ONLY))
def test_admin_gets_403_on_owner_only_mutations(client, db, world, endpoint, path, data):
    login_as(client, world["people"][Role.ADMIN])
    before = snapshot(db)
    base = f"/dashboard/stores/{world['store'].id}"
    assert post_form(client, base + path.format(**world), data, page=base).status_code == 403
    assert snapshot(db) == before
