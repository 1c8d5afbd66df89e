"""JSON shapes of a page's custom fields (the page endpoints nest `CustomFieldSchema` too).

Input schemas check types and sizes; the rules (key format and uniqueness, frozen keys,
select options) live in `checkie.catalog.fields` and answer 422/409 with the same names.
"""
from __future__ import annotations

from marshmallow import fields, validate

from checkie.api.schemas import CamelSchema, StrictBoolean
from checkie.catalog.fields import (
    HELP_TEXT_MAX_LENGTH,
    KEY_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    MAX_FIELDS_PER_PAGE,
    MAX_OPTIONS,
    OPTION_MAX_LENGTH,
)
from checkie.catalog.models import FieldType
from checkie.stores.access import MAX_ID

_KEY_HELP = "lower_snake_case, 1–40 characters, starting with a letter; unique in the page."
_OPTIONS_HELP = "The choices of a `select` field (1–50, distinct); null or omitted for other types."


class CustomFieldSchema(CamelSchema):
    id = fields.Integer(dump_only=True)
    key = fields.String(
        required=True, metadata={"description": _KEY_HELP + " Frozen once the page has checkout sessions."}
    )
    label = fields.String(required=True)
    type = fields.Enum(FieldType, by_value=True, required=True)
    required = fields.Boolean(load_default=False)
    options = fields.List(fields.String(), allow_none=True, load_default=None, metadata={"description": _OPTIONS_HELP})
    help_text = fields.String(allow_none=True, load_default=None)
    position = fields.Integer(dump_only=True, metadata={"description": "0 is shown first."})


def _options(**kwargs):
    return fields.List(
        fields.String(validate=validate.Length(max=OPTION_MAX_LENGTH)), allow_none=True,
        validate=validate.Length(max=MAX_OPTIONS), metadata={"description": _OPTIONS_HELP}, **kwargs,
    )


class CustomFieldCreateSchema(CamelSchema):
    key = fields.String(
        allow_none=True, validate=validate.Length(max=KEY_MAX_LENGTH),
        metadata={"description": _KEY_HELP + " Derived from the label when omitted."},
    )
    label = fields.String(required=True, validate=validate.Length(min=1, max=LABEL_MAX_LENGTH))
    type = fields.Enum(FieldType, by_value=True, required=True)
    required = StrictBoolean(load_default=False)
    options = _options()
    help_text = fields.String(allow_none=True, validate=validate.Length(max=HELP_TEXT_MAX_LENGTH))


class CustomFieldUpdateSchema(CamelSchema):
    """Only what is sent changes. Changing the type away from `select` drops the options."""

    key = fields.String(validate=validate.Length(min=1, max=KEY_MAX_LENGTH), metadata={
        "description": _KEY_HELP + " A different key is refused with 409 once the page has checkout sessions.",
    })
    label = fields.String(validate=validate.Length(min=1, max=LABEL_MAX_LENGTH))
    type = fields.Enum(FieldType, by_value=True)
    required = StrictBoolean()
    options = _options()
    help_text = fields.String(allow_none=True, validate=validate.Length(max=HELP_TEXT_MAX_LENGTH))


class CustomFieldReorderSchema(CamelSchema):
    ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)), required=True,
        validate=validate.Length(max=MAX_FIELDS_PER_PAGE),
        metadata={"description": "Every custom field id of the page, each once, in the new order."},
    )


class CustomFieldListSchema(CamelSchema):
    """A page's fields in order (at most 50, never paginated: `nextCursor` is always null)."""

    data = fields.List(fields.Nested(CustomFieldSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
