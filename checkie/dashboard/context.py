"""Template context for dashboard pages: the store switcher and the current store."""
from __future__ import annotations

from flask import Flask, g
from flask_login import current_user

from checkie.dashboard.guards import can_edit
from checkie.extensions import db
from checkie.stores import access


def dashboard_context() -> dict:
    def user_stores():
        if not current_user.is_authenticated:
            return []
        return access.stores_of_user(db.session, current_user.id)

    return {
        "current_store": g.get("current_store"),
        "current_role": g.get("current_role"),
        "user_stores": user_stores,
        "can_edit": can_edit,
    }


def init_dashboard_context(app: Flask) -> None:
    app.context_processor(dashboard_context)
