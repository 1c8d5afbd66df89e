"""The forms of a subscription's page and of the test-mode bar. Which action is allowed lives in
checkie.subscriptions.actions; these only carry what the merchant chose."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange

from checkie.subscriptions.models import CancellationReason

#: The reasons of CHOOSABLE_REASONS, in the merchant's words.
REASON_CHOICES = [
    SelectChoice(CancellationReason.REQUESTED_BY_MERCHANT.value, "Requested by you"),
    SelectChoice(CancellationReason.REQUESTED_BY_CUSTOMER.value, "Requested by the customer"),
    SelectChoice(CancellationReason.DUPLICATE.value, "Duplicate subscription"),
    SelectChoice(CancellationReason.FRAUDULENT.value, "Fraudulent"),
    SelectChoice(CancellationReason.OTHER.value, "Other"),
]
#: How far one press of the test-mode bar's button may move a store's clock (two years).
MAX_ADVANCE_DAYS = 730


class CancelSubscriptionForm(FlaskForm):
    """Both cancels (now, at period end): one form, the button says which."""

    # Not checked against the choices here: the service names the allowed reasons (a 422 on `reason`).
    reason = SelectField("Reason", choices=REASON_CHOICES, validate_choice=False,
                         default=CancellationReason.REQUESTED_BY_MERCHANT.value)


class AdvanceClockForm(FlaskForm):
    days = IntegerField("Advance clock by", default=1, validators=[
        InputRequired("Enter a number of days."),
        NumberRange(1, MAX_ADVANCE_DAYS, f"Enter a whole number of days from 1 to {MAX_ADVANCE_DAYS}."),
    ])
    #: The dashboard page the button was pressed on, to go back to.
    next = HiddenField()
