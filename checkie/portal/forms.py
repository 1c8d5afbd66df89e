"""The portal's forms. Which action is allowed lives in checkie.subscriptions (the table and the
store's settings); these only carry what the customer typed or chose."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from checkie.subscriptions.models import CancellationReason

#: CHOOSABLE_REASONS in the customer's words (a merchant's own reasons are not theirs to give).
REASON_CHOICES = [
    SelectChoice("", "Rather not say"),
    SelectChoice(CancellationReason.REQUESTED_BY_CUSTOMER.value, "I no longer need it"),
    SelectChoice(CancellationReason.DUPLICATE.value, "I have another subscription like it"),
    SelectChoice(CancellationReason.OTHER.value, "Something else"),
]


class AccessForm(FlaskForm):
    """Ask for a sign-in link. Whether the address is a customer is never said here."""

    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])


class CancelForm(FlaskForm):
    """Cancel at the period's end, with an optional reason."""

    #: Only the customer's own reasons: a merchant's ("fraudulent", "requested by merchant") is refused here.
    reason = SelectField("Why are you cancelling? (optional)", choices=REASON_CHOICES, default="")


class ButtonForm(FlaskForm):
    """No fields: a button-only POST (sign in, keep, pause, resume, sign out) still carries a CSRF token."""
