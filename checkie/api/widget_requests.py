"""Reading the public widget API's request bodies (SPEC §6.2) by hand: an empty body is an
empty object, a blank `sessionId` is "required", and the PATCH keys map to the checkout
service's arguments. The answers: `widget_responses`."""
from __future__ import annotations

from collections.abc import Mapping

from flask import request

from checkie.api.schemas import camelcase
from checkie.errors import ValidationFailed


def json_body() -> dict:
    """The request's JSON object (an empty body is an empty object); anything else is a 422."""
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ValidationFailed("Send a JSON object.")
    return body


def required_text(body: Mapping, name: str, *, max_length: int = 255) -> str:
    """A non-empty string field of the body; 422 naming `name` otherwise."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.on(name, "This field is required.")
    if len(value) > max_length:
        raise ValidationFailed.on(name, f"Use at most {max_length} characters.")
    return value.strip()


#: PATCH body keys → `checkout.services.update_checkout` arguments, named by the API's one
#: camelCase rule (so the 422s, converted by the same rule, name the keys the client sent).
UPDATE_ARGUMENTS = {
    camelcase(argument): argument for argument in ("email", "name", "variant_options", "custom_fields", "coupon_code")
}


def update_arguments(body: Mapping) -> dict:
    """PATCH body → `update_checkout` keyword arguments, only for the keys sent (an absent key
    leaves that part of the session alone). The service checks types and values; its 422s name
    the arguments, which the API answers under these JSON names."""
    return {argument: body[key] for key, argument in UPDATE_ARGUMENTS.items() if key in body}
