"""Forms for a page's custom fields: add/edit one field, and the button-only move/delete posts.
The rules live in `checkie.catalog.fields`, whose arguments the fields are named after; these
validators only catch what a browser should have stopped."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from checkie.catalog.fields import (
    HELP_TEXT_MAX_LENGTH,
    KEY_MAX_LENGTH,
    LABEL_MAX_LENGTH,
)
from checkie.catalog.models import FieldType

#: Form prefixes: the add and edit forms share a screen with the page editor's own form.
NEW_PREFIX, EDIT_PREFIX = "cf_new", "cf_edit"

TYPE_CHOICES = [
    SelectChoice(FieldType.TEXT.value, "Short text"),
    SelectChoice(FieldType.TEXTAREA.value, "Long text"),
    SelectChoice(FieldType.NUMBER.value, "Number"),
    SelectChoice(FieldType.EMAIL.value, "Email address"),
    SelectChoice(FieldType.PHONE.value, "Phone number"),
    SelectChoice(FieldType.URL.value, "Web address"),
    SelectChoice(FieldType.SELECT.value, "Choice from a list"),
    SelectChoice(FieldType.CHECKBOX.value, "Checkbox"),
    SelectChoice(FieldType.DATE.value, "Date"),
]


class CustomFieldForm(FlaskForm):
    label = StringField("Label", validators=[DataRequired(), Length(max=LABEL_MAX_LENGTH)])
    key = StringField("Key", validators=[Optional(), Length(max=KEY_MAX_LENGTH)])
    type = SelectField("Type", choices=TYPE_CHOICES, default=FieldType.TEXT.value)
    options = TextAreaField("Options", validators=[Optional()])
    required = BooleanField("Shoppers must answer")
    help_text = StringField("Help text", validators=[Optional(), Length(max=HELP_TEXT_MAX_LENGTH)])

    def option_lines(self) -> list[str] | None:
        """One option per line; None unless the field is a select (other types ignore the box)."""
        if self.type.data != FieldType.SELECT.value:
            return None
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]


class MoveFieldForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])
