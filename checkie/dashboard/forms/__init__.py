"""Flask-WTF forms for the dashboard, one module per area, and the helpers every view shares:
a button-only form, copying a service's ValidationFailed onto a form, redirecting after a post."""
from __future__ import annotations

from flask import make_response, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from checkie.errors import ValidationFailed
from checkie.web import request


class ActionForm(FlaskForm):
    """No fields: a button-only POST (remove, revoke, leave, join) still carries a CSRF token."""


def apply_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields (same names); others on top."""
    for name, messages in (error.fields or {"": [error.message]}).items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)


def see_other(url: str) -> Response:
    """After a successful post: htmx follows `HX-Redirect` (a 302 would be swapped into the
    page), a plain browser gets a 303 so a refresh does not post again."""
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)
