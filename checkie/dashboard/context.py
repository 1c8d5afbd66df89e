"""Template context for dashboard pages: the store switcher, the current store, the test-mode
bar, and what the custom-field editor's partial needs when the page editor includes it."""
from __future__ import annotations

from flask import g
from flask_login import current_user

from checkie.catalog import fields
from checkie.dashboard import test_mode
from checkie.dashboard.forms.catalog_fields import NEW_PREFIX, CustomFieldForm
from checkie.dashboard.guards import can_edit
from checkie.extensions import db
from checkie.stores import access


def template_context() -> dict:
    def user_stores():
        if not current_user.is_authenticated:
            return []
        return access.stores_of_user(db.session, current_user.id)

    return {
        "current_store": g.get("current_store"),
        "current_role": g.get("current_role"),
        "user_stores": user_stores,
        "can_edit": can_edit,
        # `_custom_fields.html`, included by the page editor with just `page` and `store`:
        "custom_field_form": lambda: CustomFieldForm(formdata=None, prefix=NEW_PREFIX),
        "custom_fields_locked": fields.keys_locked,
        # The layout's test-mode bar: the store's clock (None outside test mode) and its form.
        "test_clock_now": test_mode.bar_clock,
        "test_clock_form": test_mode.bar_form,
        # Its counterpart: a small "Live" badge beside the store's name when payments take real money.
        "store_is_live": test_mode.is_live,
    }
