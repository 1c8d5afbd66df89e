"""Schema building blocks shared by every API module: camelCase keys, errors, pagination."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from marshmallow import Schema, ValidationError, fields, validate

from checkie.errors import DomainError, ValidationFailed
from checkie.inputs import RefusedValue
from checkie.pagination import InvalidCursor, decode_cursor

#: Error names whose part after the dot is a key of the merchant's (`custom_fields.shirt_size`).
_KEYED_BY_MERCHANT = frozenset({"customFields"})


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


def json_field_name(name: str) -> str:
    """A service's field name as JSON clients know it: `trial_days` → `trialDays`,
    `pricing.trial_days` → `pricing.trialDays`, but `custom_fields.shirt_size` →
    `customFields.shirt_size` (a custom field's key stays as the merchant wrote it). A name
    that is camelCase already (the API's own checks use JSON names) stays as it is."""
    head, *rest = name.split(".")
    head = camelcase(head)
    return ".".join([head, *(rest if head in _KEYED_BY_MERCHANT else map(camelcase, rest))])


def json_fields(error: DomainError) -> dict[str, list[str]] | None:
    """The error's fields under their JSON names: the one place the API renames them. A value
    refused before any service saw it keeps the name the client sent (a query parameter, a
    JSON path)."""
    if not error.fields or isinstance(error, RefusedValue):
        return error.fields
    return {json_field_name(name): messages for name, messages in error.fields.items()}


@contextmanager
def nested_fields(paths: Mapping[str, str]) -> Iterator[None]:
    """Where a JSON body nests a service's arguments in an object (a page's `pricing`), their
    errors go there too: with {"trial_days": "pricing.trial_days"}, `trial_days` is answered
    as `pricing.trialDays`."""
    try:
        yield
    except ValidationFailed as error:
        if error.fields:
            error.fields = {paths.get(name, name): messages for name, messages in error.fields.items()}
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
