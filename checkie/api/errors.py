"""How every API blueprint answers a service's typed error: checkie.web's `{"error":{…}}`, with
the services' Python field names (`trial_days`) as JSON clients know them (`trialDays`)."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from checkie.api.schemas import json_fields
from checkie.errors import DomainError
from checkie.web import error_response


def answer_domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.code, error.message, json_fields(error))


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint that answers DomainErrors with `answer_domain_error`. Set when
    the blueprint is made: a blueprint is registered on every app that create_app builds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_error_handler(DomainError, answer_domain_error)
