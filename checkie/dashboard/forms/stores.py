"""Forms for stores, team members and API keys."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from checkie.money import CURRENCIES
from checkie.stores.models import Role

ROLE_CHOICES = [
    SelectChoice(Role.ADMIN.value, "Admin — edits settings and API keys"),
    SelectChoice(Role.VIEWER.value, "Viewer — read only"),
]


class StoreForm(FlaskForm):
    """Create a store, or edit its settings. The rules (slug format and uniqueness, currency)
    live in the service; these validators only catch what a browser should have stopped."""

    name = StringField("Store name", validators=[DataRequired(), Length(max=100)])
    slug = StringField("Address (slug)", validators=[Optional(), Length(max=60)])
    currency = SelectField("Default currency", choices=[SelectChoice(code) for code in CURRENCIES], default="USD")


class StoreSettingsForm(StoreForm):
    """The settings page: the store's fields, the owner's notifications and the customer portal.
    The colour's format is checked by the service (a 422 beside the field)."""

    notify_new_sale = BooleanField("Email me about each new sale")
    portal_allow_cancel = BooleanField("Customers may cancel their subscriptions in the portal")
    portal_allow_pause = BooleanField("Customers may pause and resume")
    brand_color = StringField("Brand colour", validators=[Optional(), Length(max=20)])

    def portal_settings(self) -> dict[str, Any]:
        """The portal fields as `update_store` takes them: an empty colour means the default look."""
        return {"portal_allow_cancel": self.portal_allow_cancel.data, "portal_allow_pause": self.portal_allow_pause.data,
                "brand_color": self.brand_color.data or ""}


class DeleteStoreForm(FlaskForm):
    confirm_name = StringField("Type the store name to confirm", validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ApiKeyForm(FlaskForm):
    name = StringField("Key name", validators=[DataRequired(), Length(max=100)])
