"""The JSON APIs (SPEC §6.2, §6.3, §6.6): flask-smorest blueprints, one module per area, in one
OpenAPI document.

Requests are authenticated by a bearer token, a widget session id or a PSP signature, never
by the session cookie, so these blueprints are exempt from CSRF.
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from checkie.api.schemas import ErrorSchema
from checkie.extensions import csrf


class CheckieApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Errors are rendered by checkie.web for HTML and JSON alike, in the SPEC's shape."""


def init_api(app: Flask, blueprints: list) -> CheckieApi:
    api = CheckieApi(
        app,
        spec_kwargs={
            "info": {"description": (
                "Checkie's merchant API (bearer token), the public widget API that shoppers' browsers "
                "call (`/api/widget/…`) and the payment providers' webhooks (`/api/webhooks/…`). "
                "Amounts are integers in minor units."
            )},
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A user access token (JWT) or a store API key (ck_…)."},
    )
    for blp in blueprints:
        csrf.exempt(blp)
        api.register_blueprint(blp)
    return api
