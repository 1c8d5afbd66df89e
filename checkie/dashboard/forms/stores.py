"""Forms for stores, team members and API keys."""
from __future__ import annotations

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
    """The settings page: the store's fields and the owner's notifications."""

    notify_new_sale = BooleanField("Email me about each new sale")


class DeleteStoreForm(FlaskForm):
    confirm_name = StringField("Type the store name to confirm", validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ApiKeyForm(FlaskForm):
    name = StringField("Key name", validators=[DataRequired(), Length(max=100)])
