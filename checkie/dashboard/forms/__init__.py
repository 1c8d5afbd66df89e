"""Flask-WTF forms for the dashboard, one module per area, and the helpers every view shares:
a button-only form and redirecting after a post. A service's errors go onto a form with
`checkie.form_errors.copy_errors`."""
from __future__ import annotations

from flask import make_response, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from checkie.web import request


class ActionForm(FlaskForm):
    """No fields: a button-only POST (remove, revoke, leave, join) still carries a CSRF token."""


def see_other(url: str) -> Response:
    """After a successful post: htmx follows `HX-Redirect` (a 302 would be swapped into the
    page), a plain browser gets a 303 so a refresh does not post again."""
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)
