"""The one guard every store-scoped dashboard route uses."""
from __future__ import annotations

import functools

from flask import abort, g, session
from flask_login import current_user, login_required

from checkie.errors import NotFound, PermissionDenied
from checkie.extensions import db
from checkie.stores import access
from checkie.stores.models import Role


def store_required(required: Role = Role.VIEWER):
    """For views under `/dashboard/stores/<int:store_id>/…`: log-in required; another store's id
    is a 404 and a role below `required` a 403. The view receives `store` instead of `store_id`
    and templates see `current_store` and `current_role`."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, store_id: int, **kwargs):
            try:
                store, role = access.store_for_user(db.session, current_user.id, store_id, required=required)
            except NotFound:
                abort(404)
            except PermissionDenied:
                abort(403)
            g.current_store, g.current_role = store, role
            session["store_id"] = store.id
            return view(*args, store=store, **kwargs)

        return wrapper

    return decorator


def can_edit() -> bool:
    """Templates hide mutating controls from viewers (the guard still enforces it)."""
    role = g.get("current_role")
    return role is not None and role.at_least(Role.ADMIN)
