"""Flask-WTF forms for the dashboard, one module per area, and the button-only form. A
service's errors go onto a form with `checkie.form_errors.copy_errors`."""
from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """No fields: a button-only POST (confirm, join) still carries a CSRF token. CSRFProtect
    checks every POST's token before any view runs, and checkie.web answers a refusal."""
