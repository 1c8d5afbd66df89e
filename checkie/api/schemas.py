"""Schema building blocks shared by every API module: camelCase keys, errors, pagination."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class CamelSchema(Schema):
    """snake_case attributes, camelCase JSON keys (SPEC §6.2: all JSON uses camelCase)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.data_key = camelcase(field_obj.data_key or field_name)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class PageArgsSchema(CamelSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


def list_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """`{"data":[item…],"nextCursor":…}` for a given item schema."""
    return Schema.from_dict(
        {
            "data": fields.List(fields.Nested(item_schema), required=True),
            "nextCursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )
