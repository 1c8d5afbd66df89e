"""JSON API: a store's members and invitations (`/api/stores/<id>/members`).

People manage people: API keys get 403 here (after the 404 for another store)."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from checkie.api.common import auth_required, current_principal, current_user, paginate
from checkie.api.errors import ApiBlueprint
from checkie.api.schemas import PageArgsSchema
from checkie.api.store_schemas import (
    MemberInviteSchema,
    MemberListSchema,
    MemberSchema,
    MemberUpdateSchema,
)
from checkie.errors import PermissionDenied
from checkie.extensions import db
from checkie.stores import access, members
from checkie.stores.models import Role, StoreMember

blp = ApiBlueprint(
    "api_members", __name__, url_prefix="/api/stores",
    description="Store members and invitations. Only the owner invites, changes roles and removes; "
    "any member may remove themselves (leave). Not available to API keys.",
)
_PEOPLE_ONLY = "manage members"


@blp.route("/<int:store_id>/members")
class Members(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MemberListSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, store_id: int):
        """Members and pending invitations, newest first."""
        store, _ = access.store_for_principal(db.session, current_principal(), store_id, people_only=_PEOPLE_ONLY)
        stmt = sa.select(StoreMember).where(StoreMember.store_id == store.id)
        return paginate(stmt, StoreMember.id, limit=args["limit"], cursor=args["cursor"])

    @auth_required(blp)
    @blp.arguments(MemberInviteSchema)
    @blp.response(201, MemberSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """Invite by email as admin or viewer (owner only). The invitee gets a link valid for 7
        days; inviting a pending address again sends a fresh link."""
        principal = current_principal()
        store, _ = access.store_for_principal(db.session, principal, store_id, required=Role.OWNER, people_only=_PEOPLE_ONLY)
        member = members.invite_member(db.session, store, email=data["email"], role=data["role"], invited_by=current_user())
        db.session.commit()
        return member


@blp.route("/<int:store_id>/members/<int:member_id>")
class MemberById(MethodView):
    @auth_required(blp)
    @blp.arguments(MemberUpdateSchema)
    @blp.response(200, MemberSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, member_id: int):
        """Make a member admin or viewer (owner only; the owner's own role never changes)."""
        store, _ = access.store_for_principal(
            db.session, current_principal(), store_id, required=Role.OWNER, people_only=_PEOPLE_ONLY
        )
        member = members.change_role(db.session, members.get_member(db.session, store, member_id), data["role"])
        db.session.commit()
        return member

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, store_id: int, member_id: int):
        """Remove a member or cancel an invitation (owner), or leave the store (your own
        membership, any role but owner)."""
        principal = current_principal()
        store, role = access.store_for_principal(db.session, principal, store_id, people_only=_PEOPLE_ONLY)
        member = members.get_member(db.session, store, member_id)
        if member.user_id != current_user().id and role is not Role.OWNER:
            raise PermissionDenied("Only the store owner can remove other members.")
        members.remove_member(db.session, member)
        db.session.commit()
