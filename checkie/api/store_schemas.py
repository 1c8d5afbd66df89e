"""JSON shapes for stores, members and API keys (camelCase on the wire).

Input schemas check types and sizes; the rules (slug format and uniqueness, who may be invited)
belong to the services, which answer 422 with the same field names.
"""
from __future__ import annotations

from marshmallow import fields, validate

from checkie.api.schemas import CamelSchema, StrictBoolean, list_schema
from checkie.money import CURRENCIES
from checkie.stores.models import ApiKeyMode, MemberStatus, Role

_ASSIGNABLE_ROLES = [Role.ADMIN.value, Role.VIEWER.value]


class StoreSchema(CamelSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True, metadata={"description": "Public address: checkout links are /c/<slug>/…"})
    currency = fields.String(required=True, metadata={"description": "ISO-4217 default currency for new pages."})
    role = fields.Enum(
        Role, by_value=True, required=True,
        metadata={"description": "The caller's role in this store (an API key acts as admin)."},
    )
    notify_new_sale = fields.Boolean(
        required=True, metadata={"description": "Email me about each new sale: the owner gets an email with every payment."},
    )
    portal_allow_cancel = fields.Boolean(
        required=True, metadata={"description": "Customers may cancel their subscriptions (at period end) in the portal."},
    )
    portal_allow_pause = fields.Boolean(required=True, metadata={"description": "Customers may pause and resume in the portal."})
    brand_color = fields.String(
        required=True, allow_none=True, metadata={"description": "The portal's colour as `#rrggbb`; null for the default look."},
    )
    created_at = fields.DateTime(required=True)


class StoreCreateSchema(CamelSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    slug = fields.String(
        allow_none=True, validate=validate.Length(max=60),
        metadata={"description": "Lowercase letters, digits and hyphens; derived from the name when omitted."},
    )
    currency = fields.String(required=True, validate=validate.OneOf(CURRENCIES))


class StoreUpdateSchema(CamelSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    slug = fields.String(validate=validate.Length(min=1, max=60))
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    notify_new_sale = StrictBoolean(metadata={"description": "Email the owner about each new sale (on by default)."})
    portal_allow_cancel = StrictBoolean(metadata={"description": "Customers may cancel in the portal (on by default)."})
    portal_allow_pause = StrictBoolean(metadata={"description": "Customers may pause and resume in the portal (off by default)."})
    brand_color = fields.String(
        allow_none=True, validate=validate.Length(max=20),
        metadata={"description": "`#rrggbb`; null or \"\" for the default look. Anything else is a 422."},
    )


class RevenueSchema(CamelSchema):
    currency = fields.String(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Minor units."})


class StoreStatsSchema(CamelSchema):
    """Zeros until payments, pages and checkout sessions exist: nothing is estimated."""

    payments = fields.Integer(required=True)
    revenue = fields.List(fields.Nested(RevenueSchema), required=True)
    conversion_rate = fields.Float(required=True, metadata={"description": "Completed / opened checkout sessions, 0–1."})
    page_views = fields.Integer(required=True)
    checkout_sessions = fields.Integer(required=True)


class MemberSchema(CamelSchema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.Enum(Role, by_value=True, required=True)
    status = fields.Enum(
        MemberStatus, by_value=True, required=True,
        metadata={"description": "`invited` until the emailed link is accepted."},
    )
    user_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class MemberInviteSchema(CamelSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(_ASSIGNABLE_ROLES))


class MemberUpdateSchema(CamelSchema):
    role = fields.String(required=True, validate=validate.OneOf(_ASSIGNABLE_ROLES))


class ApiKeySchema(CamelSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "The key's first characters, to recognise it."})
    mode = fields.Enum(ApiKeyMode, by_value=True, required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(required=True, allow_none=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(required=True, metadata={"description": "The secret. Shown in this answer only; store it now."})


class ApiKeyCreateSchema(CamelSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


StoreListSchema = list_schema(StoreSchema, "StoreList")
MemberListSchema = list_schema(MemberSchema, "MemberList")
ApiKeyListSchema = list_schema(ApiKeySchema, "ApiKeyList")


def store_view(store, role: Role) -> dict:
    """A store as the caller sees it: StoreSchema needs the caller's role beside the row."""
    return {
        "id": store.id, "name": store.name, "slug": store.slug, "currency": store.currency,
        "role": role, "notify_new_sale": store.notify_new_sale, "portal_allow_cancel": store.portal_allow_cancel,
        "portal_allow_pause": store.portal_allow_pause, "brand_color": store.brand_color,
        "created_at": store.created_at,
    }


def store_changes(data: dict) -> dict:
    """A PATCH body as `update_store` takes it: absent fields are None (left alone); a null
    colour is "" (cleared)."""
    changes = {name: data.get(name) for name in (
        "name", "slug", "currency", "notify_new_sale", "portal_allow_cancel", "portal_allow_pause")}
    if "brand_color" in data:
        changes["brand_color"] = data["brand_color"] or ""
    return changes


def created_key_view(key, raw_key: str) -> dict:
    """The create answer: the key's fields plus its secret, which exists only in this response."""
    view = {name: getattr(key, name) for name in ("id", "name", "prefix", "mode", "created_at", "last_used_at", "revoked_at")}
    return {**view, "key": raw_key}
