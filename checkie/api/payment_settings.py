"""JSON API: a store's payment settings (`/api/stores/<id>/payment-settings`): the provider, the
store's own Stripe keys (never returned), and a check of those keys against Stripe.

Anyone with access to the store reads them. Only owners and admins with a user token change
them: a leaked API key must not be able to send the store's payments to another Stripe account."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from checkie.api.common import auth_required, current_principal
from checkie.api.errors import ApiBlueprint
from checkie.api.payment_settings_schemas import (
    ConnectionCheckSchema,
    PaymentSettingsSchema,
    PaymentSettingsUpdateSchema,
    payment_settings_view,
)
from checkie.extensions import db
from checkie.stores import access, payment_settings
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_payment_settings", __name__, url_prefix="/api/stores",
    description="A store's payment provider and Stripe keys. Secrets are write-only: answers show a hint of the "
                "secret key and whether a webhook secret is set.",
)
_PEOPLE_ONLY = "change payment settings"


def _view(store) -> dict:
    webhook_url = payment_settings.stripe_webhook_url(current_app.config["APP_URL"])
    return payment_settings_view(payment_settings.settings_of(store), webhook_url)


@blp.route("/<int:store_id>/payment-settings")
class PaymentSettings(MethodView):
    @auth_required(blp)
    @blp.response(200, PaymentSettingsSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int):
        """The provider in use, whether it takes real money, and the store's keys, masked."""
        store, _ = access.store_for_principal(db.session, current_principal(), store_id)
        return _view(store)

    @auth_required(blp)
    @blp.arguments(PaymentSettingsUpdateSchema, required=False)
    @blp.response(200, PaymentSettingsSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def put(self, data, store_id: int):
        """Choose the provider and save Stripe keys (owners and admins; not API keys). An absent or
        empty key keeps the saved one. Publishable and secret keys must be of one mode, own keys
        need a webhook secret, and Stripe needs keys: each problem is a 422 on its field."""
        store, _ = access.store_for_principal(
            db.session, current_principal(), store_id, required=Role.ADMIN, people_only=_PEOPLE_ONLY
        )
        payment_settings.update_payment_settings(db.session, store, **data)
        db.session.commit()
        return _view(store)


@blp.route("/<int:store_id>/payment-settings/test", methods=["POST"])
@auth_required(blp)
@blp.response(200, ConnectionCheckSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def test_connection(store_id: int):
    """Ask Stripe whether the store's keys work (owners and admins): their mode, or a 422
    `connection_failed` when Stripe refuses them or cannot be reached."""
    store, _ = access.store_for_principal(db.session, current_principal(), store_id, required=Role.ADMIN)
    return {"connected": True, "mode": payment_settings.check_connection(store)}
