"""PSP webhooks (SPEC §6.3): `POST /api/webhooks/test` and `POST /api/webhooks/stripe`.

No cookies, no CSRF (exempted in create_app): the Stripe-Signature header is the credential.
The test provider's route exists only where that provider is enabled (checkie.web).
A bad signature is a 400 with nothing stored (checkie.web renders the typed error); only a
signed body is judged, by the intake, and one it cannot take is a 400 too."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from checkie.extensions import db
from checkie.inputs import checks_content_itself
from checkie.payments.intake import receive_event
from checkie.web import test_provider_route

bp = Blueprint("psp_webhooks", __name__, url_prefix="/api/webhooks")


@bp.post("/test")
@test_provider_route
@checks_content_itself
def receive_test_event():
    return _receive("test")


@bp.post("/stripe")
@checks_content_itself
def receive_stripe_event():
    return _receive("stripe")


def _receive(provider_name: str):
    receive_event(db.session, provider_name, request.get_data(), request.headers.get("Stripe-Signature", ""))
    db.session.commit()
    return jsonify({"received": True})
