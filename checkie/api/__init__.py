"""The JSON APIs (SPEC §6.2, §6.3, §6.4, §6.6): flask-smorest blueprints, one module per area, in one
OpenAPI document, and the browsable docs page that reads it.

Requests are authenticated by a bearer token (a merchant's or a portal customer's), a widget
session id or a PSP signature, never by the session cookie, so these blueprints are exempt from CSRF.
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from checkie.api import (
    api_keys,
    auth,
    balance,
    checkout_sessions,
    coupons,
    custom_fields,
    customers,
    docs,
    embeds,
    event_views,
    members,
    pages,
    payment_settings,
    payments,
    payouts,
    portal,
    psp_webhooks,
    refunds,
    stores,
    subscriptions,
    users,
    variants,
    webhooks,
    widget,
)
from checkie.api.schemas import ErrorSchema
from checkie.extensions import csrf

#: In the OpenAPI document, in this order.
BLUEPRINTS = (
    auth.blp,
    users.blp,
    stores.blp,
    members.blp,
    api_keys.blp,
    payment_settings.blp,
    pages.blp,
    variants.blp,
    custom_fields.blp,
    coupons.blp,
    embeds.blp,
    checkout_sessions.blp,
    payments.blp,
    refunds.blp,
    customers.blp,
    balance.blp,
    payouts.blp,
    subscriptions.blp,
    webhooks.blp,
    portal.blp,
    widget.bp,
    psp_webhooks.bp,
)


class CheckieApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Errors are rendered by checkie.web for HTML and JSON alike, in the SPEC's shape."""


def init_api(app: Flask) -> CheckieApi:
    """Register the docs page and every API blueprint in one document."""
    app.register_blueprint(docs.bp)
    api = CheckieApi(
        app,
        spec_kwargs={
            "info": {"description": (
                "Checkie's merchant API (bearer token), the customer portal's API (`/api/portal/…`, a "
                "portal bearer token), the public widget API that shoppers' browsers call (`/api/widget/…`) "
                "and the payment providers' webhooks (`/api/webhooks/…`). "
                "Amounts are integers in minor units."
            )},
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A user access token (JWT) or a store API key (ck_…)."},
    )
    api.spec.components.security_scheme(
        "portalBearer",
        {"type": "http", "scheme": "bearer", "description": (
            "A customer's portal token from `GET /api/portal/verify/<token>`: one customer of one store, 24 hours."
        )},
    )
    for blp in BLUEPRINTS:
        csrf.exempt(blp)
        api.register_blueprint(blp)
    event_views.register_event_views()
    return api
