"""Authentication, store access and pagination for API views."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request

from checkie import inputs
from checkie.accounts.models import User
from checkie.accounts.tokens import InvalidAccessToken, decode_access_token
from checkie.errors import AuthenticationFailed
from checkie.extensions import db
from checkie.pagination import Slice, decode_cursor, encode_cursor, keyset_page
from checkie.stores import access
from checkie.stores.models import ApiKey, Role, Store

API_KEY_PREFIX = "ck_"


@dataclass
class Principal:
    """Who is calling: a user (access token) or a store API key — never both."""

    user: User | None = None
    api_key: ApiKey | None = None


def _authenticate() -> Principal:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Send an `Authorization: Bearer <token>` header.")
    token = token.strip()
    if token.startswith(API_KEY_PREFIX):
        api_key = access.find_api_key(db.session, token)
        if api_key is None:
            raise AuthenticationFailed("Invalid or revoked API key.")
        return Principal(api_key=api_key)
    try:
        user_id, epoch = decode_access_token(token, secret=current_app.config["JWT_SECRET"])
    except InvalidAccessToken:
        raise AuthenticationFailed("Invalid or expired access token.") from None
    user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch:
        raise AuthenticationFailed("Invalid or expired access token.")
    return Principal(user=user)


def auth_required(blp, *, user_only: bool = False):
    """Authenticate the bearer token before the view (and before its body is parsed)."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            g.principal = _authenticate()
            if user_only and g.principal.user is None:
                raise AuthenticationFailed("This endpoint needs a user access token, not an API key.")
            inputs.check_content()
            return fn(*args, **kwargs)

        wrapper = inputs.checks_content_itself(wrapper)
        wrapper = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        return blp.alt_response(401, response="UNAUTHORIZED")(wrapper)

    return decorator


def current_principal() -> Principal:
    return g.principal


def current_user() -> User:
    user = g.principal.user
    if user is None:
        raise AuthenticationFailed("This endpoint needs a user access token, not an API key.")
    return user


def load_store(store_id: int, *, required: Role = Role.VIEWER) -> Store:
    """The store the caller may act on with at least `required`; 404 across tenants, 403 for roles."""
    principal = current_principal()
    if principal.api_key is not None:
        store, _ = access.store_for_api_key(db.session, principal.api_key, store_id, required=required)
    else:
        store, _ = access.store_for_user(db.session, current_user().id, store_id, required=required)
    return store


def paginate(stmt: sa.Select, id_column, *, limit: int, cursor: str | None) -> dict:
    """Keyset pagination by id, newest first: `{"data": [...], "nextCursor": ...}`."""
    return listing(keyset_page(db.session, stmt, id_column, after=decode_cursor(cursor), limit=limit))


def listing(page: Slice, shape: Callable[[Any], Any] | None = None) -> dict:
    """A page as the API's list object, each row through `shape` when given."""
    rows = page.rows if shape is None else [shape(row) for row in page.rows]
    return {"data": rows, "nextCursor": encode_cursor(page.next_id)}
