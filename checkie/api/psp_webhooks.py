"""PSP webhooks (SPEC §6.3): `POST /api/webhooks/test` and `POST /api/webhooks/stripe`.

No cookies, no CSRF: the Stripe-Signature header is the credential.
The test provider's route exists only where that provider is enabled (checkie.web).
A bad signature is a 400 with nothing stored (checkie.web renders the typed error); only a
signed body is judged, by the intake, and one it cannot take is a 400 too. The body is read
as raw bytes (the signature covers them), so the document describes it and nothing parses it
before the signature is checked."""
from __future__ import annotations

from flask import jsonify, request
from marshmallow import Schema, fields

from checkie.api.errors import ApiBlueprint
from checkie.extensions import db
from checkie.inputs import checks_content_itself
from checkie.payments.intake import receive_event
from checkie.web import test_provider_route

bp = ApiBlueprint(
    "psp_webhooks", __name__, url_prefix="/api/webhooks",
    description="Events from payment providers, signed with the `Stripe-Signature` header (SPEC §6.3).",
)


class ReceivedSchema(Schema):
    received = fields.Boolean(required=True, metadata={"enum": [True]})


#: A provider's event (Stripe's shape), judged only once its signature holds.
EVENT_DOC = {
    "parameters": [{
        "in": "header", "name": "Stripe-Signature", "required": True, "schema": {"type": "string"},
        "description": "`t=<unix time>,v1=<hex HMAC-SHA256 of \"t.body\">`, as Stripe signs.",
    }],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": True,
        "description": "The event as the provider sent it (`id`, `type`, `data.object` …).",
    }}}},
}
def receives_events(view):
    """Document a webhook view: a signed event in, `{"received": true}` or a 400 out (a missing
    or wrong signature, a body that is not an event, a provider that is not configured)."""
    view = bp.alt_response(400, response="BAD_REQUEST")(view)
    view = bp.response(200, ReceivedSchema, description="Taken (or already taken: a duplicate).")(view)
    return bp.doc(**EVENT_DOC)(view)


@bp.post("/test")
@receives_events
@test_provider_route
@checks_content_itself
def receive_test_event():
    """An event of the built-in test provider (only where it is enabled)."""
    return _receive("test")


@bp.post("/stripe")
@receives_events
@checks_content_itself
def receive_stripe_event():
    """An event from Stripe."""
    return _receive("stripe")


def _receive(provider_name: str):
    receive_event(db.session, provider_name, request.get_data(), request.headers.get("Stripe-Signature", ""))
    db.session.commit()
    return jsonify({"received": True})
