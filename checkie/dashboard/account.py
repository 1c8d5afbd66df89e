"""The signed-in user's own account: profile, password, deletion (one page, three forms).

Each form posts to its own URL. An invalid form re-renders the page with its errors (htmx
gets just that form's block back); success redirects back to the page with a flash.
"""
from __future__ import annotations

from flask import Blueprint, flash, session, url_for
from flask_login import current_user, login_required, logout_user

from checkie.accounts import services
from checkie.accounts.models import User
from checkie.dashboard.forms.accounts import (
    ChangePasswordForm,
    DeleteAccountForm,
    ProfileForm,
)
from checkie.dashboard.logins import sign_in
from checkie.errors import Conflict, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, see_other
from checkie.stores.accounts import delete_user, owned_stores

bp = Blueprint("account", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _page(*, block: str | None = None, status: int = 200, **forms):
    """The account page; `forms` replaces the blank form(s) with submitted ones and their errors."""
    me = _me()
    context = {
        "profile_form": ProfileForm(formdata=None, obj=me),
        "password_form": ChangePasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        **forms,
    }
    owned = owned_stores(db.session, me)
    return render_page("dashboard/account/show.html", block=block, status=status, owned_stores=owned, **context)


@bp.get("/account")
@login_required
def show():
    return _page()


@bp.post("/account/profile")
@login_required
def update_profile():
    form, me = ProfileForm(), _me()
    if form.validate_on_submit():
        old_email = me.email
        try:
            services.update_profile(
                db.session, me, name=form.name.data, email=form.email.data, current_password=form.current_password.data
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            changed = me.email != old_email
            flash(f"Saved. We sent a confirmation link to {me.email}." if changed else "Your profile is saved.", "success")
            return see_other(url_for("account.show"))
    return _page(block="profile_form", status=422, profile_form=form)


@bp.post("/account/password")
@login_required
def change_password():
    form, me = ChangePasswordForm(), _me()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session, me, current_password=form.current_password.data, new_password=form.new_password.data
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            sign_in(me)  # every session ended with the password: this browser starts a new one
            db.session.commit()
            flash("Your password is changed. Every other session has been signed out.", "success")
            return see_other(url_for("account.show"))
    return _page(block="password_form", status=422, password_form=form)


@bp.post("/account/delete")
@login_required
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            delete_user(db.session, _me(), password=form.password.data)
        except (ValidationFailed, Conflict) as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash("Your account has been deleted. Thank you for using Checkie.", "info")
            return see_other(url_for("auth.login"))
    return _page(block="delete_form", status=422, delete_form=form)
