"""Merchant sign-up, sign-in and tokens over JSON (SPEC §6.6).

Access tokens are 15-minute JWTs; refresh tokens last 7 days and are rotated on every use
(see checkie.accounts.refresh). Unlike the dashboard, the API accepts accounts whose email is
not confirmed yet: an integration should not wait on a mailbox, and the address is confirmed
(or the account taken back) through the emailed links, whose use ends every API session.
"""
from __future__ import annotations

from flask import Response, request
from flask_limiter.util import get_remote_address

from checkie.accounts import limits, refresh, services
from checkie.api.account_schemas import (
    AuthResultSchema,
    ForgotPasswordSchema,
    LoginSchema,
    MessageSchema,
    RefreshTokenSchema,
    RegisterSchema,
    ResetPasswordSchema,
    TokenPairSchema,
    UserSchema,
)
from checkie.api.common import auth_required, current_user
from checkie.api.errors import ApiBlueprint
from checkie.extensions import db, limiter

blp = ApiBlueprint(
    "api_auth", __name__, url_prefix="/api/auth",
    description="Sign up and sign in as a merchant user, refresh and revoke tokens, reset a forgotten password.",
)

RESET_REQUESTED = "If an account exists for this address, we have emailed it a link to reset its password."


def _submitted_email() -> str:
    """Rate-limit key: the address in the JSON body (the same counter as the dashboard's form)."""
    body = request.get_json(silent=True)
    return (limits.email_key(body.get("email")) if isinstance(body, dict) else None) or get_remote_address()


def _signed_in(user, tokens: refresh.TokenPair) -> dict:
    return {"user": user, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


@blp.route("/register", methods=["POST"])
@limiter.limit(limits.SIGN_UP_PER_IP)
@blp.arguments(RegisterSchema)
@blp.response(201, AuthResultSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def register(data: dict):
    """Create a merchant account and sign in.

    The answer carries tokens, so a taken address is a 422 on `email`. The account starts
    unconfirmed (`emailVerified: false`) and a confirmation link is emailed; the API works
    before it is confirmed, the dashboard's log-in does not."""
    user = services.sign_up_for_api(db.session, **data)
    tokens = refresh.issue_token_pair(db.session, user)
    db.session.commit()
    return _signed_in(user, tokens)


@blp.route("/login", methods=["POST"])
@limiter.limit(limits.PER_IP)
@limiter.shared_limit(limits.PER_EMAIL, limits.LOGIN_EMAIL_SCOPE, key_func=_submitted_email)
@blp.arguments(LoginSchema)
@blp.response(200, AuthResultSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def login(data: dict):
    """Sign in with email and password.

    A wrong password and an unknown address get the same 401."""
    user = services.authenticate(db.session, email=data["email"], password=data["password"])
    tokens = refresh.issue_token_pair(db.session, user)
    db.session.commit()
    return _signed_in(user, tokens)


@blp.route("/refresh", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def refresh_tokens(data: dict):
    """Trade a refresh token for a new pair; the one sent stops working.

    Sending a refresh token that was already used revokes every token descended from the same
    sign-in (someone else holds a copy): sign in again."""
    try:
        _, tokens = refresh.rotate_refresh_token(db.session, data["refresh_token"])
    except refresh.RefreshTokenReused:
        db.session.commit()  # the family's revocation must outlive this 401
        raise
    db.session.commit()
    return tokens


@blp.route("/logout", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(204)
def logout(data: dict):
    """Revoke a refresh token. Access tokens already issued run out on their own within 15 minutes."""
    refresh.revoke_refresh_token(db.session, data["refresh_token"])
    db.session.commit()
    return Response(status=204)


@blp.route("/forgot-password", methods=["POST"])
@limiter.limit(limits.PER_IP)
@limiter.shared_limit(limits.PER_EMAIL, limits.RESET_EMAIL_SCOPE, key_func=_submitted_email)
@blp.arguments(ForgotPasswordSchema)
@blp.response(202, MessageSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def forgot_password(data: dict):
    """Email a one-hour password reset link, if the address has an account.

    The answer is the same whether or not it does."""
    services.request_password_reset(db.session, email=data["email"])
    db.session.commit()
    return {"message": RESET_REQUESTED}


@blp.route("/reset-password", methods=["POST"])
@limiter.limit(limits.PER_IP)
@blp.arguments(ResetPasswordSchema)
@blp.response(204)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def reset_password(data: dict):
    """Set a new password with the token from the emailed link (single use, one hour).

    Every session and token of the account ends; sign in again with the new password."""
    services.reset_password(db.session, token=data["token"], password=data["password"])
    db.session.commit()
    return Response(status=204)


@blp.route("/me", methods=["GET"])
@auth_required(blp, user_only=True)
@blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return current_user()
