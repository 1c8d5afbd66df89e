"""The forms of the payouts screen. The rules (digits, lengths, the balance, the minimum) live in
checkie.payments.payouts, whose field errors carry these fields' names."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length


class PayoutAccountForm(FlaskForm):
    account_holder_name = StringField("Account holder name", validators=[Length(max=200)])
    routing_number = StringField("Routing number", validators=[Length(max=40)])
    account_number = StringField("Account number", validators=[Length(max=40)])


class PayoutRequestForm(FlaskForm):
    amount = StringField("Amount", validators=[Length(max=30)])
    currency = SelectField("Currency", validate_choice=False)
