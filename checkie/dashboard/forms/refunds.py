"""The refund form on a payment's page. It speaks the merchant's language (the amount in major
units such as "12.50"); the rules (what is left, the reasons, the note's length) live in
checkie.payments.refunds, whose field errors carry these fields' names."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from checkie.money import MoneyError, to_major, to_minor
from checkie.payments.models import Payment, RefundReason
from checkie.payments.refunds import MAX_NOTE_LENGTH, refundable

REASON_CHOICES = [
    SelectChoice(RefundReason.REQUESTED_BY_CUSTOMER.value, "Requested by the customer"),
    SelectChoice(RefundReason.DUPLICATE.value, "Duplicate payment"),
    SelectChoice(RefundReason.FRAUDULENT.value, "Fraudulent payment"),
    SelectChoice(RefundReason.OTHER.value, "Other"),
]


class RefundForm(FlaskForm):
    amount = StringField("Amount to refund", validators=[InputRequired("Enter the amount to refund."), Length(max=24)])
    # Not checked against the choices here: the service names the allowed reasons.
    reason = SelectField("Reason", choices=REASON_CHOICES, validate_choice=False)
    note = TextAreaField("Note (for your records)", validators=[Length(max=MAX_NOTE_LENGTH)])


def refund_form_for(payment: Payment) -> RefundForm:
    """A blank form with what is left of the payment prefilled."""
    return RefundForm(formdata=None, amount=str(to_major(refundable(payment), payment.currency)))


def amount_in_minor(form: RefundForm, currency: str) -> int | None:
    """The typed amount in minor units; None (with the message on the field) when it is not an amount."""
    try:
        return to_minor(form.amount.data or "", currency)
    except MoneyError as problem:
        form.amount.errors = [str(problem)]
        return None
