"""Flask-WTF forms for the dashboard, one module per area, and the helpers every view shares:
a button-only form, copying a service's ValidationFailed onto a form."""
from __future__ import annotations

from flask_wtf import FlaskForm

from checkie.errors import ValidationFailed


class ActionForm(FlaskForm):
    """No fields: a button-only POST (confirm, join) still carries a CSRF token. CSRFProtect
    checks every POST's token before any view runs, and checkie.web answers a refusal."""


def apply_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields (same names); others on top."""
    for name, messages in (error.fields or {"": [error.message]}).items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)
