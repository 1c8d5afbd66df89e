"""A service's field errors shown on a Flask-WTF form, for every audience that has forms.

Services name fields by their arguments (`trial_days`, `custom_fields.<key>`) and forms name
their fields alike, so nothing is renamed here: a name is a field, or a subform's field."""
from __future__ import annotations

from wtforms import Field, FormField
from wtforms.form import BaseForm

from checkie.errors import DomainError


def copy_errors(form: BaseForm, error: DomainError) -> None:
    """Each of the error's messages beside the field of its name: `x` on `form.x`, `a.b` on the
    field `b` of the subform `form.a`. Messages for a name the form has no field for, and the
    error's message when it names no field, go on top of the form (`form_errors`). A field the
    form itself refused keeps only its own message: the service never saw a value for it."""
    for name, messages in (error.fields or {"": [error.message]}).items():
        field = _field(form, name)
        if field is None:
            form.form_errors.extend(messages)
        elif not field.errors:
            field.errors = list(messages)


def _field(form: BaseForm, name: str) -> Field | None:
    head, _, rest = name.partition(".")
    field = form[head] if head and head in form else None
    if isinstance(field, FormField):
        return _field(field.form, rest) if rest else None  # a whole subform is no place for a message
    return None if rest else field
