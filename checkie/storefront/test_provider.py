"""The test provider's 3DS page (SPEC §5): the shopper completes or fails authentication.

Test mode only by nature: it serves only attempts of the built-in test provider, each found
through the unguessable token in its URL, and sends the shopper back to that attempt's session."""
from __future__ import annotations

from flask import Blueprint, redirect
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired

from checkie.checkout.models import CheckoutSession
from checkie.extensions import db
from checkie.payments.test_provider import (
    attempt_awaiting_authentication,
    finish_authentication,
)
from checkie.stores.models import Store
from checkie.web import render_page, test_provider_route

bp = Blueprint("test_provider", __name__)


class AuthenticationForm(FlaskForm):
    #: Sent by the button pressed: `complete` or `fail`.
    outcome = HiddenField(validators=[InputRequired(), AnyOf(["complete", "fail"])])


@bp.route("/test-provider/3ds/<action_token>", methods=["GET", "POST"])
@test_provider_route
def authenticate(action_token: str):
    attempt = attempt_awaiting_authentication(db.session, action_token)
    form = AuthenticationForm()
    if form.validate_on_submit():
        finish_authentication(db.session, attempt, outcome=form.outcome.data)
        db.session.commit()
        return redirect(f"/c/s/{attempt.session_id}", 303)
    checkout = db.session.get(CheckoutSession, attempt.session_id)
    status = 422 if form.is_submitted() else 200
    return render_page(
        "storefront/test_provider_3ds.html", status=status, form=form, attempt=attempt,
        store=db.session.get(Store, checkout.store_id), checkout=checkout,
    )
