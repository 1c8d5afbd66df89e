"""Signed-out pages: register, confirm email, log in and out, forgot and reset password.

None of them reveals whether an address has an account: sign-up and "forgot password" answer
the same for every address, and a failed log-in says the same for an unknown address and a
wrong password. The difference only ever reaches the address's own inbox.
"""
from __future__ import annotations

from flask import Blueprint, flash, request, session, url_for
from flask_limiter.util import get_remote_address

from checkie.accounts import limits, services
from checkie.accounts.models import TokenPurpose
from checkie.dashboard.forms import ActionForm
from checkie.dashboard.forms.accounts import (
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from checkie.dashboard.logins import sign_in, sign_out
from checkie.errors import AuthenticationFailed, ValidationFailed
from checkie.extensions import db, limiter
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, see_other

bp = Blueprint("auth", __name__)

NOT_VERIFIED = "Please confirm your email address first. We have just sent a new confirmation link to {email}."


def _submitted_email() -> str:
    """Rate-limit key: the address typed into the form, so one account cannot be tried from many IPs."""
    return limits.email_key(request.form.get("email")) or get_remote_address()


def _status(form) -> int:
    """A form shown again after a submission has errors (422, which htmx swaps); else a first view."""
    return 422 if form.is_submitted() else 200


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path on this site ("/x", not "//evil.example",
    "/\\evil.example" or "https://…", which browsers would treat as another host)."""
    target = target or ""
    same_site = target.startswith("/") and not target.startswith("//")
    # Browsers read a backslash as "/" and drop tabs and newlines: "/\\x" or "/<tab>/x" would be "//x".
    if same_site and "\\" not in target and target.isprintable():
        return target
    return url_for("stores.index")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(limits.SIGN_UP_PER_IP, methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            services.register(db.session, email=form.email.data, password=form.password.data, name=form.name.data)
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            session["sent_to"] = form.email.data.strip()
            return see_other(url_for("auth.check_inbox"))
    return render_page("auth/register.html", block="form", form=form, status=_status(form))


@bp.get("/register/check-inbox")
def check_inbox():
    return render_page("auth/check_inbox.html", email=session.get("sent_to"), purpose="register")


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """GET only shows a Confirm button (mail scanners prefetch links); the POST uses the link."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            user = services.verify_email(db.session, token)
        except ValidationFailed:
            return _invalid_link("confirm")
        sign_in(user)
        db.session.commit()
        flash("Your email address is confirmed. Welcome to Checkie!", "success")
        return see_other(url_for("stores.index"))
    linked = services.user_for_link(db.session, token, TokenPurpose.EMAIL_VERIFICATION)
    if linked is None:
        return _invalid_link("confirm")
    return render_page("auth/verify_email.html", form=form, user=linked)


def _invalid_link(purpose: str):
    return render_page("auth/invalid_link.html", purpose=purpose, status=404)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limits.PER_IP, methods=["POST"])
@limiter.shared_limit(limits.PER_EMAIL, limits.LOGIN_EMAIL_SCOPE, key_func=_submitted_email, methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return _login_page(form)
    try:
        user = services.authenticate(db.session, email=form.email.data, password=form.password.data)
    except AuthenticationFailed as error:
        return _login_page(form, error=error.message)
    if user.email_verified_at is None:
        services.resend_verification(db.session, user)
        db.session.commit()
        return _login_page(form, error=NOT_VERIFIED.format(email=user.email))
    sign_in(user)
    db.session.commit()  # the session row, and a password rehash
    return see_other(_safe_next(form.next.data))


def _login_page(form: LoginForm, *, error: str | None = None):
    if error:
        form.form_errors.append(error)
    return render_page("auth/login.html", block="form", form=form, status=_status(form))


@bp.post("/logout")
def logout():
    sign_out()
    db.session.commit()
    flash("You have been logged out.", "info")
    return see_other(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(limits.PER_IP, methods=["POST"])
@limiter.shared_limit(limits.PER_EMAIL, limits.RESET_EMAIL_SCOPE, key_func=_submitted_email, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(db.session, email=form.email.data)
        db.session.commit()
        session["sent_to"] = form.email.data.strip()
        return see_other(url_for("auth.reset_link_sent"))
    return render_page("auth/forgot_password.html", block="form", form=form, status=_status(form))


@bp.get("/forgot-password/check-inbox")
def reset_link_sent():
    return render_page("auth/check_inbox.html", email=session.get("sent_to"), purpose="reset")


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = services.user_for_link(db.session, token, TokenPurpose.PASSWORD_RESET)
    if user is None:
        return _invalid_link("reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(db.session, token=token, password=form.password.data)
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            sign_in(user)
            db.session.commit()
            flash("Your password is changed, and every other session has been signed out.", "success")
            return see_other(url_for("stores.index"))
    return render_page("auth/reset_password.html", block="form", form=form, user=user, status=_status(form))
