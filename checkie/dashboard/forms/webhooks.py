"""The forms of the webhooks screens. The rules (http(s) only, no private address, known event
types, at least one) live in checkie.webhooks.services, whose field errors carry these fields'
names; the forms only carry the values there, so every message lands beside its field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from checkie.webhooks.models import WebhookEndpoint
from checkie.webhooks.services import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH, SUBSCRIBABLE_EVENTS

#: What datetime-local inputs send (seconds are optional in browsers).
_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class EventCheckboxes(SelectMultipleField):
    """One checkbox per event type. Choices are not checked here: the service names an unknown
    type in its message, which says more than WTForms' "not a valid choice"."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField("Endpoint URL", validators=[Length(max=MAX_URL_LENGTH)])
    events = EventCheckboxes(
        "Events to send", choices=[SelectChoice(kind, kind) for kind in SUBSCRIBABLE_EVENTS], validate_choice=False,
    )
    description = TextAreaField("Description", validators=[Length(max=MAX_DESCRIPTION_LENGTH)])


class ActionForm(FlaskForm):
    """Enable, disable, delete, rotate, send a test event, resend: only the CSRF token."""


class ReplayForm(FlaskForm):
    since = DateTimeLocalField(
        "Replay failed deliveries since (UTC)", format=_LOCAL_FORMATS,
        validators=[InputRequired("Enter a date and time in UTC.")],
    )


def edit_endpoint_form(endpoint: WebhookEndpoint) -> EndpointForm:
    return EndpointForm(formdata=None, data={
        "url": endpoint.url, "events": list(endpoint.events), "description": endpoint.description,
    })
