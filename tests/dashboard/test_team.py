"""Dashboard: the team screen (invite, roles, remove, leave) and accepting invitations."""
from datetime import timedelta

import sqlalchemy as sa

from checkie.database import utcnow
from checkie.stores import access, members
from checkie.stores.models import MemberStatus, Role, StoreMember
from tests.emails import invitation_path
from tests.factories import add_member, make_user
from tests.http import HX, login_as, post_form


def team_url(store) -> str:
    return f"/dashboard/stores/{store.id}/team"


def invite(client, store, email="new@example.com", role="viewer", **kwargs):
    return post_form(client, f"{team_url(store)}/invitations", {"email": email, "role": role}, page=team_url(store), **kwargs)


def member_by_email(db, store, email) -> StoreMember:
    db.expire_all()
    return db.scalar(sa.select(StoreMember).where(StoreMember.store_id == store.id, StoreMember.email == email))


def test_team_page_lists_members_and_offers_the_owner_an_invite_form(client, db, user, store):
    add_member(db, store, make_user(db, email="viewer@example.com", name="Vic Viewer"), role=Role.VIEWER)
    db.commit()
    login_as(client, user)
    response = client.get(team_url(store))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    assert "Vic Viewer" in page and "viewer@example.com" in page and "Olive Owner" in page
    assert "Send invitation" in page and "Change role" in page


def test_viewers_and_admins_see_the_team_without_controls(client, db, store):
    for role in (Role.VIEWER, Role.ADMIN):
        member = make_user(db)
        add_member(db, store, member, role=role)
        db.commit()
        login_as(client, member)
        page = client.get(team_url(store)).get_data(as_text=True)
        assert "Olive Owner" in page and "Only the store owner can invite" in page
        assert "Send invitation" not in page and "Change role" not in page and "Leave store" in page


def test_plain_invite_redirects_and_sends_the_email(client, db, user, store):
    login_as(client, user)
    response = invite(client, store, email="New@Example.com", role="admin")
    assert response.status_code == 303 and response.headers["Location"].endswith(team_url(store))
    member = member_by_email(db, store, "new@example.com")
    assert (member.role, member.status) == (Role.ADMIN, MemberStatus.INVITED)
    assert invitation_path(db, "new@example.com").startswith("/invitations/")
    assert "Invitation sent to new@example.com" in client.get(team_url(store)).get_data(as_text=True)


def test_htmx_invite_swaps_the_team_fragment(client, db, user, store):
    login_as(client, user)
    response = invite(client, store, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="team">')
    assert "new@example.com" in body and "Invitation sent" in body and "Invited" in body
    assert 'value="new@example.com"' not in body  # the form is blank again


def test_invalid_invites_are_422_with_the_error_by_the_field(client, db, user, store):
    login_as(client, user)
    for email, message in [("not-an-email", "valid email"), (user.email, "already a member")]:
        response = invite(client, store, email=email, headers=HX)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and "<html" not in body
        assert 'id="email-error"' in body and message in body
    full = invite(client, store, email="bad")
    assert full.status_code == 422 and "<html" in full.get_data(as_text=True)


def test_owner_changes_a_role_through_htmx_or_a_plain_post(client, db, user, store):
    member = add_member(db, store, make_user(db, email="a@example.com"), role=Role.VIEWER)
    db.commit()
    login_as(client, user)
    url = f"{team_url(store)}/{member.id}/role"
    response = post_form(client, url, {"role": "admin"}, page=team_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and body.lstrip().startswith('<section id="members"')
    assert "a@example.com is now admin" in body
    assert member_by_email(db, store, "a@example.com").role is Role.ADMIN
    plain = post_form(client, url, {"role": "viewer"}, page=team_url(store))
    assert plain.status_code == 303 and member_by_email(db, store, "a@example.com").role is Role.VIEWER
    invalid = post_form(client, url, {"role": "owner"}, page=team_url(store), headers=HX)
    assert invalid.status_code == 422 and "Choose admin or viewer" in invalid.get_data(as_text=True)


def test_the_owners_role_cannot_be_changed_or_removed(client, db, user, store):
    owner_member = access.membership(db, user.id, store.id)
    login_as(client, user)
    assert post_form(client, f"{team_url(store)}/{owner_member.id}/role", {"role": "viewer"}, page=team_url(store)).status_code == 403
    assert post_form(client, f"{team_url(store)}/{owner_member.id}/remove", page=team_url(store)).status_code == 403
    assert member_by_email(db, store, user.email).role is Role.OWNER


def test_owner_removes_a_member_and_cancels_an_invitation(client, db, user, store):
    member = add_member(db, store, make_user(db, email="gone@example.com"), role=Role.ADMIN)
    db.commit()
    login_as(client, user)
    invite(client, store, email="pending@example.com")
    response = post_form(client, f"{team_url(store)}/{member.id}/remove", page=team_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "gone@example.com was removed" in body
    pending = member_by_email(db, store, "pending@example.com")
    plain = post_form(client, f"{team_url(store)}/{pending.id}/remove", page=team_url(store))
    assert plain.status_code == 303
    assert member_by_email(db, store, "gone@example.com") is None and member_by_email(db, store, "pending@example.com") is None


def test_a_member_can_leave(client, db, store):
    admin = make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    db.commit()
    login_as(client, admin)
    response = post_form(client, f"{team_url(store)}/leave", page=team_url(store))
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")
    assert access.membership(db, admin.id, store.id) is None
    assert client.get(team_url(store)).status_code == 404


def test_the_owner_cannot_leave(client, user, store):
    login_as(client, user)
    assert post_form(client, f"{team_url(store)}/leave", page=team_url(store)).status_code == 403


def test_opening_an_invitation_needs_a_login(client, db, user, store):
    members.invite_member(db, store, email="invitee@example.com", role="viewer", invited_by=user)
    db.commit()
    response = client.get(invitation_path(db, "invitee@example.com"))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_invitee_sees_the_invitation_and_joins(client, db, user, store):
    login_as(client, user)
    invite(client, store, email="invitee@example.com", role="admin")
    path = invitation_path(db, "invitee@example.com")
    invitee = make_user(db, email="invitee@example.com", name="Ivy Invitee")
    db.commit()
    login_as(client, invitee)
    page = client.get(path).get_data(as_text=True)
    assert "Join Acme Goods" in page and "<strong>admin</strong>" in page and f'action="{path}"' in page
    response = post_form(client, path)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/dashboard/stores/{store.id}")
    assert access.store_for_user(db, invitee.id, store.id)[1] is Role.ADMIN
    assert "You joined as admin" in client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.get(path)
    assert again.status_code == 404 and "not valid" in again.get_data(as_text=True)


def test_an_invitation_for_another_address_is_refused_clearly(client, db, user, store):
    login_as(client, user)
    invite(client, store, email="invitee@example.com")
    path = invitation_path(db, "invitee@example.com")
    other = make_user(db, email="someone@example.com")
    db.commit()
    login_as(client, other)
    page = client.get(path).get_data(as_text=True)
    assert "sent to <strong>invitee@example.com</strong>" in page and f'action="{path}"' not in page
    response = post_form(client, path)
    assert response.status_code == 403 and "someone@example.com" in response.get_data(as_text=True)
    assert access.membership(db, other.id, store.id) is None


def test_expired_and_unknown_invitations_say_so(client, db, user, store):
    login_as(client, user)
    invite(client, store, email="late@example.com")
    path = invitation_path(db, "late@example.com")
    member = member_by_email(db, store, "late@example.com")
    member.invite_expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    expired = client.get(path)
    assert expired.status_code == 404 and "This invitation has expired" in expired.get_data(as_text=True)
    unknown = client.get("/invitations/not-a-real-token")
    assert unknown.status_code == 404 and "This invitation link is not valid" in unknown.get_data(as_text=True)
