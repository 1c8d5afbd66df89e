"""Store members: invitations by email, accepting them, role changes, removal and leaving.

Who may call these (the owner manages members) is decided by `checkie.stores.access` at the
edge; the rules here hold whoever calls: there is exactly one owner, it cannot be demoted,
removed or leave, and no one else can become owner.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from checkie.accounts.models import User
from checkie.database import utcnow
from checkie.email_addresses import EmailNotValidError, normalized_email
from checkie.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from checkie.notifications.services import queue_email
from checkie.security import hash_token, new_token
from checkie.stores.access import MAX_ID
from checkie.stores.models import MemberStatus, Role, Store, StoreMember

INVITATION_TTL = timedelta(days=7)
#: Roles an owner can hand out; ownership itself is never granted through membership changes.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.VIEWER)


class InvitationInvalid(NotFound):
    """The link is unknown, already used, cancelled, or expired (`expired` says which)."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message, code="invitation_expired" if expired else "invitation_invalid")
        self.expired = expired


def normalize_email(email: str) -> str:
    """Lower-cased and validated (syntax only: an invitation must not depend on DNS)."""
    try:
        address = normalized_email((email or "").strip())
    except EmailNotValidError:
        raise ValidationFailed.on("email", "Enter a valid email address.") from None
    return address.lower()


def assignable_role(role: Role | str) -> Role:
    try:
        chosen = Role(role)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in ASSIGNABLE_ROLES:
        raise ValidationFailed.on("role", "Choose admin or viewer.")
    return chosen


def list_members(db: Session, store: Store) -> list[StoreMember]:
    """Everyone with access or a pending invitation: owner first, then by role and email."""
    rank = sa.case({Role.OWNER.value: 0, Role.ADMIN.value: 1}, value=StoreMember.role, else_=2)
    return list(db.scalars(
        sa.select(StoreMember).where(StoreMember.store_id == store.id).order_by(rank, StoreMember.email)
    ))


def get_member(db: Session, store: Store, member_id: int) -> StoreMember:
    """A member of `store`; another store's member is NotFound, like a missing one."""
    member = db.get(StoreMember, member_id) if 0 < member_id <= MAX_ID else None
    if member is None or member.store_id != store.id:
        raise NotFound("Member not found.")
    return member


def _member_with_email(db: Session, store: Store, email: str) -> StoreMember | None:
    """By invited email, or by the current email of a user who joined under an older one."""
    return db.scalar(
        sa.select(StoreMember)
        .outerjoin(User, User.id == StoreMember.user_id)
        .where(StoreMember.store_id == store.id, sa.or_(StoreMember.email == email, User.email == email))
    )


def invite_member(db: Session, store: Store, *, email: str, role: Role | str, invited_by: User) -> StoreMember:
    """Invite `email` as admin or viewer and queue the `store_invitation` email with a link valid
    for 7 days. Inviting a pending address again issues a fresh link (the old one stops working)
    and applies the new role. ValidationFailed on `email` (bad, or already a member) or `role`."""
    email, role = normalize_email(email), assignable_role(role)
    member = _member_with_email(db, store, email)
    if member is not None and member.status is MemberStatus.ACTIVE:
        raise ValidationFailed.on("email", "This person is already a member of the store.")
    token = new_token()
    values = dict(
        role=role, invited_by_id=invited_by.id,
        invite_token_hash=hash_token(token), invite_expires_at=utcnow() + INVITATION_TTL,
    )
    if member is None:
        member = StoreMember(store_id=store.id, email=email, status=MemberStatus.INVITED, **values)
        db.add(member)
    else:
        for attribute, value in values.items():
            setattr(member, attribute, value)
    db.flush()
    _send_invitation(db, store, member, token=token, inviter=invited_by)
    return member


def _send_invitation(db: Session, store: Store, member: StoreMember, *, token: str, inviter: User) -> None:
    link = f"{current_app.config['APP_URL']}/invitations/{token}"
    queue_email(
        db, to=member.email, template="store_invitation",
        subject=f"{inviter.name} invited you to {store.name} on Checkie",
        store_name=store.name, role=member.role.value, inviter_name=inviter.name,
        link=link, expires_at=member.invite_expires_at,
    )


def find_invitation(db: Session, token: str, *, now: datetime | None = None) -> StoreMember:
    """The pending invitation behind an emailed link; InvitationInvalid when unknown, used,
    cancelled or past its 7 days."""
    member = db.scalar(sa.select(StoreMember).where(StoreMember.invite_token_hash == hash_token(token or "")))
    if member is None or member.status is not MemberStatus.INVITED:
        raise InvitationInvalid("This invitation link is not valid. It may have been used, cancelled or replaced.")
    if member.invite_expires_at is None or member.invite_expires_at <= (now or utcnow()):
        raise InvitationInvalid("This invitation has expired. Ask the store owner to invite you again.", expired=True)
    return member


def email_mismatch(member: StoreMember, user: User) -> bool:
    """An invitation is for one address: whoever holds a forwarded link cannot use it."""
    return member.email.lower() != user.email.lower()


def accept_invitation(db: Session, token: str, *, user: User) -> StoreMember:
    """Join the store the invitation is for, with its role. The signed-in user's email must be
    the invited one (PermissionDenied otherwise); the link is single use."""
    member = find_invitation(db, token)
    if email_mismatch(member, user):
        raise PermissionDenied(
            f"This invitation was sent to {member.email}, but you are signed in as {user.email}. "
            "Sign in with the invited address, or ask the owner to invite this one."
        )
    already = db.scalar(sa.select(StoreMember.id).where(
        StoreMember.store_id == member.store_id, StoreMember.user_id == user.id, StoreMember.id != member.id
    ))
    if already is not None:
        raise Conflict("You are already a member of this store.")
    member.user_id, member.status, member.joined_at = user.id, MemberStatus.ACTIVE, utcnow()
    member.invite_token_hash = member.invite_expires_at = None
    db.flush()
    return member


def change_role(db: Session, member: StoreMember, role: Role | str) -> StoreMember:
    """Make a member (or a pending invitee) admin or viewer. The owner's role never changes and
    nobody becomes owner here: PermissionDenied / ValidationFailed on `role`."""
    if member.role is Role.OWNER:
        raise PermissionDenied("The owner's role cannot be changed.")
    member.role = assignable_role(role)
    db.flush()
    return member


def remove_member(db: Session, member: StoreMember) -> None:
    """Remove a member or cancel a pending invitation (its link stops working). The owner stays."""
    if member.role is Role.OWNER:
        raise PermissionDenied("The owner cannot be removed from the store.")
    db.delete(member)
    db.flush()


def leave_store(db: Session, store: Store, *, user: User) -> None:
    """The signed-in member gives up their own access. The owner cannot leave: a store always
    has an owner (delete the store instead)."""
    member = db.scalar(sa.select(StoreMember).where(StoreMember.store_id == store.id, StoreMember.user_id == user.id))
    if member is None:
        raise NotFound("You are not a member of this store.")
    if member.role is Role.OWNER:
        raise PermissionDenied("The owner cannot leave the store; delete it instead.")
    db.delete(member)
    db.flush()
