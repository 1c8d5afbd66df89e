"""Members: invitations (email, token, expiry, re-invite), accepting, roles, removal, leaving."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.database import utcnow
from checkie.errors import NotFound, PermissionDenied, ValidationFailed
from checkie.notifications.models import EmailMessage
from checkie.security import hash_token
from checkie.stores import access, members
from checkie.stores.models import MemberStatus, Role, StoreMember
from tests.factories import add_member, make_store, make_user

_LINK = re.compile(r"http://localhost/invitations/([A-Za-z0-9_-]+)")


def invitation_emails(db, to: str) -> list[EmailMessage]:
    return list(db.scalars(
        sa.select(EmailMessage)
        .where(EmailMessage.kind == "store_invitation", EmailMessage.to_address == to)
        .order_by(EmailMessage.id)
    ))


def token_from(message: EmailMessage) -> str:
    return _LINK.search(message.text_body).group(1)


def invite(db, store, user, email="new@example.com", role="viewer"):
    member = members.invite_member(db, store, email=email, role=role, invited_by=user)
    db.commit()
    return member, token_from(invitation_emails(db, member.email)[-1])


def test_invite_creates_a_pending_member_with_a_hashed_seven_day_token_and_an_email(db, user, store):
    member, token = invite(db, store, user, email="New@Example.COM", role="admin")
    assert (member.email, member.role, member.status, member.user_id) == ("new@example.com", Role.ADMIN, MemberStatus.INVITED, None)
    assert member.invite_token_hash == hash_token(token) and token not in member.invite_token_hash
    assert timedelta(days=6, hours=23) < member.invite_expires_at - utcnow() <= timedelta(days=7)
    [message] = invitation_emails(db, "new@example.com")
    assert "Acme Goods" in message.subject and "Olive Owner" in message.subject
    assert "as admin" in message.text_body and f"http://localhost/invitations/{token}" in message.html_body
    assert members.find_invitation(db, token).id == member.id


@pytest.mark.parametrize("email", ["not-an-email", "", "a@", "two@@example.com"])
def test_invalid_email_is_refused_on_email(db, user, store, email):
    with pytest.raises(ValidationFailed) as excinfo:
        members.invite_member(db, store, email=email, role="viewer", invited_by=user)
    assert set(excinfo.value.fields) == {"email"}


@pytest.mark.parametrize("role", ["owner", "superuser", ""])
def test_only_admin_or_viewer_can_be_invited(db, user, store, role):
    with pytest.raises(ValidationFailed) as excinfo:
        members.invite_member(db, store, email="new@example.com", role=role, invited_by=user)
    assert set(excinfo.value.fields) == {"role"}


def test_inviting_an_existing_member_is_refused_on_email(db, user, store):
    admin = make_user(db, email="admin@example.com")
    add_member(db, store, admin, role=Role.ADMIN)
    for email in ("ADMIN@example.com", user.email):
        with pytest.raises(ValidationFailed) as excinfo:
            members.invite_member(db, store, email=email, role="viewer", invited_by=user)
        assert set(excinfo.value.fields) == {"email"}


def test_reinviting_a_pending_email_issues_a_new_token_and_role(db, user, store):
    first, old_token = invite(db, store, user, role="viewer")
    second, new_token = invite(db, store, user, role="admin")
    assert second.id == first.id and second.role is Role.ADMIN and new_token != old_token
    assert len(invitation_emails(db, "new@example.com")) == 2
    with pytest.raises(members.InvitationInvalid):
        members.find_invitation(db, old_token)
    assert members.find_invitation(db, new_token).id == first.id


def test_accepting_makes_the_invited_user_an_active_member(db, user, store):
    member, token = invite(db, store, user, email="Invitee@example.com", role="admin")
    invitee = make_user(db, email="invitee@example.com")
    members.accept_invitation(db, token, user=invitee)
    db.commit()
    assert (member.status, member.user_id, member.invite_token_hash) == (MemberStatus.ACTIVE, invitee.id, None)
    assert access.store_for_user(db, invitee.id, store.id)[1] is Role.ADMIN


def test_an_invitation_works_once(db, user, store):
    _, token = invite(db, store, user)
    members.accept_invitation(db, token, user=make_user(db, email="new@example.com"))
    with pytest.raises(members.InvitationInvalid) as excinfo:
        members.accept_invitation(db, token, user=make_user(db, email="new2@example.com"))
    assert not excinfo.value.expired


def test_someone_else_cannot_accept_a_forwarded_invitation(db, user, store):
    member, token = invite(db, store, user, email="invitee@example.com")
    intruder = make_user(db, email="intruder@example.com")
    with pytest.raises(PermissionDenied) as excinfo:
        members.accept_invitation(db, token, user=intruder)
    assert "invitee@example.com" in excinfo.value.message and "intruder@example.com" in excinfo.value.message
    assert member.status is MemberStatus.INVITED and access.membership(db, intruder.id, store.id) is None


def test_an_expired_invitation_cannot_be_accepted(db, user, store):
    member, token = invite(db, store, user)
    member.invite_expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    with pytest.raises(members.InvitationInvalid) as excinfo:
        members.accept_invitation(db, token, user=make_user(db, email="new@example.com"))
    assert excinfo.value.expired and excinfo.value.status == 404


def test_an_invitation_is_valid_for_seven_days(db, user, store):
    _, token = invite(db, store, user)
    assert members.find_invitation(db, token, now=utcnow() + timedelta(days=6, hours=23))
    with pytest.raises(members.InvitationInvalid):
        members.find_invitation(db, token, now=utcnow() + timedelta(days=7, minutes=1))


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
def test_unknown_tokens_are_invalid(db, token):
    with pytest.raises(members.InvitationInvalid):
        members.find_invitation(db, token)


def test_a_cancelled_invitation_stops_working(db, user, store):
    member, token = invite(db, store, user)
    members.remove_member(db, member)
    db.commit()
    with pytest.raises(members.InvitationInvalid):
        members.find_invitation(db, token)


def test_owner_changes_roles_between_admin_and_viewer(db, store):
    member = add_member(db, store, make_user(db), role=Role.VIEWER)
    assert members.change_role(db, member, "admin").role is Role.ADMIN
    assert members.change_role(db, member, Role.VIEWER).role is Role.VIEWER


def test_nobody_becomes_owner_and_the_owner_is_never_demoted(db, user, store):
    member = add_member(db, store, make_user(db), role=Role.ADMIN)
    with pytest.raises(ValidationFailed) as excinfo:
        members.change_role(db, member, "owner")
    assert set(excinfo.value.fields) == {"role"}
    owner_member = access.membership(db, user.id, store.id)
    with pytest.raises(PermissionDenied):
        members.change_role(db, owner_member, "viewer")
    assert owner_member.role is Role.OWNER


def test_members_can_be_removed_but_not_the_owner(db, user, store):
    other = make_user(db)
    member = add_member(db, store, other, role=Role.ADMIN)
    members.remove_member(db, member)
    assert access.membership(db, other.id, store.id) is None
    with pytest.raises(PermissionDenied):
        members.remove_member(db, access.membership(db, user.id, store.id))


def test_a_member_can_leave_but_the_owner_cannot(db, user, store):
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    members.leave_store(db, store, user=viewer)
    assert access.membership(db, viewer.id, store.id) is None
    with pytest.raises(PermissionDenied):
        members.leave_store(db, store, user=user)
    with pytest.raises(NotFound):
        members.leave_store(db, store, user=viewer)


def test_members_of_another_store_are_not_found(db, user, store):
    other_store = make_store(db, name="Other")
    stranger = db.scalar(sa.select(StoreMember).where(StoreMember.store_id == other_store.id))
    with pytest.raises(NotFound):
        members.get_member(db, store, stranger.id)
    with pytest.raises(NotFound):
        members.get_member(db, store, 2**70)


def test_list_members_puts_the_owner_first(db, user, store):
    add_member(db, store, make_user(db, email="a@example.com"), role=Role.VIEWER)
    invite(db, store, user, email="b@example.com", role="admin")
    assert [(m.email, m.role.value) for m in members.list_members(db, store)] == [
        ("owner@example.com", "owner"), ("b@example.com", "admin"), ("a@example.com", "viewer"),
    ]
