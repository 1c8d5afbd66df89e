"""Schema building blocks shared by every API module: camelCase keys, errors, pagination."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from marshmallow import Schema, ValidationError, fields, validate

from checkie.errors import ValidationFailed
from checkie.pagination import InvalidCursor, decode_cursor


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class CamelSchema(Schema):
    """snake_case attributes, camelCase JSON keys (SPEC §6.2: all JSON uses camelCase)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.data_key = camelcase(field_obj.data_key or field_name)


class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow's Boolean also takes 1, "yes", "on" …, which the
    OpenAPI document does not promise)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    # Named as the JSON member; it shadows Schema.fields, which mypy (not marshmallow) minds.
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))  # type: ignore[assignment]


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


@contextmanager
def json_field_names() -> Iterator[None]:
    """Services name fields in snake_case (`current_password`); answer with the JSON names."""
    try:
        yield
    except ValidationFailed as error:
        if error.fields:
            error.fields = {camelcase(name): messages for name, messages in error.fields.items()}
        raise


def _check_cursor(cursor: str) -> None:
    """A forged cursor is a 422, never a 500 from the decoder or from PostgreSQL (BIGINT overflow)."""
    try:
        decode_cursor(cursor)
    except InvalidCursor as error:
        raise ValidationError(error.message) from None


class PageArgsSchema(CamelSchema):
    """`limit` and `cursor` (URL-safe base64 from a previous page's `nextCursor`)."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(
        load_default=None,
        validate=[validate.Length(max=200), validate.Regexp(r"^[A-Za-z0-9_-]*$"), _check_cursor],
    )


def list_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """`{"data":[item…],"nextCursor":…}` for a given item schema."""
    return Schema.from_dict(
        {
            "data": fields.List(fields.Nested(item_schema), required=True),
            "nextCursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )
