"""JSON API: /api/stores/<id>/members — invite, list, change roles, remove, leave."""
import pytest
import sqlalchemy as sa

from checkie.notifications.models import EmailMessage
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role, StoreMember
from tests.factories import add_member, make_user
from tests.http import access_token_for, bearer

MEMBER_KEYS = {"id", "email", "role", "status", "userId", "createdAt"}


def members_url(store, member_id=None) -> str:
    return f"/api/stores/{store.id}/members" + (f"/{member_id}" if member_id else "")


def test_owner_invites_by_email(client, db, store, auth):
    response = client.post(members_url(store), json={"email": "New@Example.com", "role": "admin"}, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == MEMBER_KEYS
    assert (body["email"], body["role"], body["status"], body["userId"]) == ("new@example.com", "admin", "invited", None)
    assert db.scalar(sa.select(EmailMessage.kind).where(EmailMessage.to_address == "new@example.com")) == "store_invitation"


@pytest.mark.parametrize(
    "payload, field",
    [({"email": "nope", "role": "viewer"}, "email"), ({"email": "owner@example.com", "role": "viewer"}, "email"),
     ({"email": "a@example.com", "role": "owner"}, "role"), ({"email": "a@example.com"}, "role")],
)
def test_invalid_invitations_are_422_on_the_field(client, store, auth, payload, field):
    response = client.post(members_url(store), json=payload, headers=auth)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_list_members_with_pagination(client, db, store, auth):
    add_member(db, store, make_user(db, email="a@example.com"), role=Role.VIEWER)
    db.commit()
    client.post(members_url(store), json={"email": "b@example.com", "role": "viewer"}, headers=auth)
    first = client.get(members_url(store) + "?limit=2", headers=auth).json
    assert [m["email"] for m in first["data"]] == ["b@example.com", "a@example.com"] and first["nextCursor"]
    rest = client.get(members_url(store) + f"?cursor={first['nextCursor']}", headers=auth).json
    assert [(m["email"], m["role"], m["status"]) for m in rest["data"]] == [("owner@example.com", "owner", "active")]


def test_viewers_list_but_only_the_owner_manages(client, app, db, store):
    admin, viewer = make_user(db), make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    target = add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    for person in (admin, viewer):
        headers = bearer(access_token_for(app, person))
        assert client.get(members_url(store), headers=headers).status_code == 200
        assert client.post(members_url(store), json={"email": "x@example.com", "role": "viewer"}, headers=headers).status_code == 403
        assert client.patch(members_url(store, target.id), json={"role": "admin"}, headers=headers).status_code == 403
    assert client.delete(members_url(store, target.id), headers=bearer(access_token_for(app, admin))).status_code == 403


def test_owner_changes_roles_but_never_its_own(client, db, user, store, auth):
    member = add_member(db, store, make_user(db), role=Role.VIEWER)
    owner_member = db.scalar(sa.select(StoreMember).where(StoreMember.user_id == user.id))
    db.commit()
    response = client.patch(members_url(store, member.id), json={"role": "admin"}, headers=auth)
    assert response.status_code == 200 and response.json["role"] == "admin" and set(response.json) == MEMBER_KEYS
    assert client.patch(members_url(store, owner_member.id), json={"role": "viewer"}, headers=auth).status_code == 403
    assert client.patch(members_url(store, member.id), json={"role": "owner"}, headers=auth).status_code == 422
    assert client.patch(members_url(store, 999999), json={"role": "admin"}, headers=auth).status_code == 404


def test_owner_removes_members_and_cancels_invitations(client, db, user, store, auth):
    member = add_member(db, store, make_user(db), role=Role.ADMIN)
    db.commit()
    invited = client.post(members_url(store), json={"email": "p@example.com", "role": "viewer"}, headers=auth).json
    for member_id in (member.id, invited["id"]):
        response = client.delete(members_url(store, member_id), headers=auth)
        assert response.status_code == 204 and response.data == b""
    assert db.scalar(sa.select(sa.func.count(StoreMember.id))) == 1
    owner_member = db.scalar(sa.select(StoreMember))
    assert client.delete(members_url(store, owner_member.id), headers=auth).status_code == 403


def test_a_member_leaves_by_deleting_their_own_membership(client, app, db, store):
    viewer = make_user(db)
    member = add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    headers = bearer(access_token_for(app, viewer))
    assert client.delete(members_url(store, member.id), headers=headers).status_code == 204
    assert client.get(f"/api/stores/{store.id}", headers=headers).status_code == 404


def test_api_keys_cannot_touch_members(client, db, user, store):
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    owner_member = db.scalar(sa.select(StoreMember))
    db.commit()
    headers = bearer(raw)
    assert client.get(members_url(store), headers=headers).status_code == 403
    response = client.post(members_url(store), json={"email": "x@example.com", "role": "admin"}, headers=headers)
    assert response.status_code == 403 and "API key" in response.json["error"]["message"]
    assert client.patch(members_url(store, owner_member.id), json={"role": "admin"}, headers=headers).status_code == 403
    assert client.delete(members_url(store, owner_member.id), headers=headers).status_code == 403
