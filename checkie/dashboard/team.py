"""Dashboard: the team screen (members, invitations, roles) and accepting an invitation.

Only the owner manages members; every member can see the list and leave. The member table is
the `members` block and the whole screen body (invite form + table) the `team` block, so htmx
swaps just what changed.
"""
from __future__ import annotations

from flask import Blueprint, flash, g, session, url_for
from flask_login import current_user, login_required

from checkie.dashboard.forms import ActionForm
from checkie.dashboard.forms.stores import ROLE_CHOICES, InviteForm, RoleForm
from checkie.dashboard.guards import store_required
from checkie.errors import DomainError, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import fragment_or_see_other, render_page, request, see_other
from checkie.stores import members
from checkie.stores.models import Role, Store

bp = Blueprint("team", __name__)
_TEMPLATE = "dashboard/team/index.html"


def _render_team(store: Store, *, form: InviteForm | None = None, block: str | None = None,
                 status: int = 200, notice: str | None = None, error: str | None = None):
    return render_page(
        _TEMPLATE, block=block, status=status, store=store, members=members.list_members(db.session, store),
        invite_form=form or InviteForm(formdata=None), is_owner=g.current_role is Role.OWNER,
        role_choices=ROLE_CHOICES, notice=notice, error=error,
    )


def _after_change(store: Store, message: str):
    """htmx gets the refreshed member table; a plain form post goes back to the team page."""
    return fragment_or_see_other(
        lambda: _render_team(store, block="members", notice=message),
        url=url_for("team.index", store_id=store.id), message=message,
    )


@bp.get("/dashboard/stores/<int:store_id>/team")
@store_required(Role.VIEWER)
def index(store: Store):
    return _render_team(store)


@bp.post("/dashboard/stores/<int:store_id>/team/invitations")
@store_required(Role.OWNER)
def invite(store: Store):
    form = InviteForm()
    if form.validate_on_submit():
        try:
            member = members.invite_member(
                db.session, store, email=form.email.data, role=form.role.data, invited_by=current_user._get_current_object()
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            message = f"Invitation sent to {member.email}. The link works for 7 days."
            return fragment_or_see_other(
                lambda: _render_team(store, block="team", notice=message),
                url=url_for("team.index", store_id=store.id), message=message,
            )
    return _render_team(store, form=form, block="team", status=422)


@bp.post("/dashboard/stores/<int:store_id>/team/<int:member_id>/role")
@store_required(Role.OWNER)
def change_role(store: Store, member_id: int):
    member = members.get_member(db.session, store, member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_team(store, block="members", status=422, error="Choose admin or viewer.")
    members.change_role(db.session, member, form.role.data)
    db.session.commit()
    return _after_change(store, f"{member.email} is now {member.role.value}.")


@bp.post("/dashboard/stores/<int:store_id>/team/<int:member_id>/remove")
@store_required(Role.OWNER)
def remove(store: Store, member_id: int):
    member = members.get_member(db.session, store, member_id)
    pending = member.user_id is None
    email = member.email
    members.remove_member(db.session, member)
    db.session.commit()
    return _after_change(store, f"Invitation for {email} cancelled." if pending else f"{email} was removed.")


@bp.post("/dashboard/stores/<int:store_id>/team/leave")
@store_required(Role.VIEWER)
def leave(store: Store):
    members.leave_store(db.session, store, user=current_user._get_current_object())
    db.session.commit()
    session.pop("store_id", None)
    flash(f"You left {store.name}.", "success")
    return see_other(url_for("stores.index"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept(token: str):
    """GET only shows the invitation (mail scanners open links); the Join button's POST accepts."""
    try:
        member = members.find_invitation(db.session, token)
        if request.method == "POST" and ActionForm().validate_on_submit():
            members.accept_invitation(db.session, token, user=current_user._get_current_object())
            db.session.commit()
            flash(f"Welcome to {member.store.name}. You joined as {member.role.value}.", "success")
            return see_other(url_for("stores.show", store_id=member.store_id))
    except DomainError as error:
        return render_page("dashboard/team/invitation.html", error=error, status=error.status)
    mismatch = members.email_mismatch(member, current_user)
    return render_page("dashboard/team/invitation.html", member=member, form=ActionForm(), mismatch=mismatch)
