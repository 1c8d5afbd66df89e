"""JSON shapes for pages, variants and options (camelCase on the wire, amounts in minor units).

Input schemas check types and sizes; the rules (slug uniqueness, the price floor, what a
subscription needs, URL schemes) belong to `checkie.catalog.pages`/`variants`, whose 422s name
their arguments (`trial_days`, `success_url`, `price_delta` …): the API answers them under these
schemas' names (`pricing.trialDays`, `successUrl`, `priceDelta` …).
"""
from __future__ import annotations

from flask import current_app
from marshmallow import fields, validate

from checkie.api.field_schemas import CustomFieldSchema
from checkie.api.schemas import CamelSchema, PageArgsSchema, StrictBoolean, list_schema
from checkie.catalog.models import Interval, Page, PageStatus, PricingType
from checkie.catalog.pages import (
    DESCRIPTION_MAX_LENGTH,
    MAX_AMOUNT,
    SEARCH_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    TRIAL_DAYS_MAX,
    URL_MAX_LENGTH,
)
from checkie.catalog.variants import MAX_OPTIONS, MAX_VARIANTS, NAME_MAX_LENGTH
from checkie.money import CURRENCIES
from checkie.stores.access import MAX_ID


def _money(description: str, *, low: int, **kwargs) -> fields.Integer:
    return fields.Integer(
        strict=True, validate=validate.Range(min=low, max=MAX_AMOUNT),
        metadata={"description": description}, **kwargs,
    )


# ---------- answers ----------

class PricingSchema(CamelSchema):
    type = fields.Enum(PricingType, by_value=True, required=True)
    amount = fields.Integer(required=True, metadata={"description": "Base price in minor units of `currency`."})
    currency = fields.String(required=True)
    interval = fields.Enum(Interval, by_value=True, required=True, allow_none=True,
                           metadata={"description": "Billing period of a subscription; null for one-time pages."})
    interval_count = fields.Integer(required=True, metadata={"description": "Bill every N intervals."})
    trial_days = fields.Integer(required=True)


class OptionSchema(CamelSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    price_delta = fields.Integer(
        required=True, metadata={"description": "Added to the page amount when chosen (minor units, may be negative)."}
    )
    position = fields.Integer(required=True)


class VariantSchema(CamelSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    position = fields.Integer(required=True)
    options = fields.List(fields.Nested(OptionSchema), required=True)


class PageStatsSchema(CamelSchema):
    views = fields.Integer(required=True)
    sessions = fields.Integer(required=True)
    conversions = fields.Integer(required=True)
    revenue = fields.Integer(required=True, metadata={"description": "Minor units of the page currency."})


class PageSchema(CamelSchema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.Enum(PageStatus, by_value=True, required=True)
    pricing = fields.Nested(PricingSchema, required=True)
    allow_coupons = fields.Boolean(required=True)
    success_url = fields.String(required=True, allow_none=True)
    variants = fields.List(fields.Nested(VariantSchema), required=True)
    custom_fields = fields.List(fields.Nested(CustomFieldSchema), required=True)
    stats = fields.Nested(PageStatsSchema, required=True)
    url = fields.String(required=True,
                        metadata={"description": "The public hosted checkout: APP_URL/c/<store slug>/<page slug>."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    published_at = fields.DateTime(required=True, allow_none=True)


# ---------- requests ----------

class PricingInputSchema(CamelSchema):
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in PricingType]))
    amount = _money("Base price in minor units (JPY has none, BHD three decimals).", low=0, required=True)
    currency = fields.String(validate=validate.OneOf(CURRENCIES), metadata={"description": "Defaults to the store's currency."})
    interval = fields.String(allow_none=True, validate=validate.OneOf([i.value for i in Interval]),
                             metadata={"description": "Required before a subscription can be published."})
    interval_count = fields.Integer(strict=True, validate=validate.Range(min=1, max=365),
                                    metadata={"description": "At most one year in all (365 days, 52 weeks, 12 months, 1 year)."})
    trial_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=TRIAL_DAYS_MAX))


class PricingPatchSchema(PricingInputSchema):
    """Only the keys sent change."""

    type = fields.String(validate=validate.OneOf([t.value for t in PricingType]))
    amount = _money("Base price in minor units.", low=0)


class PageCreateSchema(CamelSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_MAX_LENGTH))
    slug = fields.String(allow_none=True, validate=validate.Length(max=SLUG_MAX_LENGTH),
                         metadata={"description": "Lowercase letters, digits and hyphens, unique in the store; "
                                                  "derived from the title when omitted."})
    description = fields.String(load_default="", validate=validate.Length(max=DESCRIPTION_MAX_LENGTH))
    pricing = fields.Nested(PricingInputSchema, required=True)
    allow_coupons = StrictBoolean(load_default=False)
    success_url = fields.String(allow_none=True, validate=validate.Length(max=URL_MAX_LENGTH),
                                metadata={"description": "http(s) address shoppers return to after paying."})


class PageUpdateSchema(CamelSchema):
    title = fields.String(validate=validate.Length(min=1, max=TITLE_MAX_LENGTH))
    slug = fields.String(validate=validate.Length(min=1, max=SLUG_MAX_LENGTH),
                         metadata={"description": "Changing it changes the page's public checkout URL."})
    description = fields.String(validate=validate.Length(max=DESCRIPTION_MAX_LENGTH))
    pricing = fields.Nested(PricingPatchSchema)
    allow_coupons = StrictBoolean()
    success_url = fields.String(allow_none=True, validate=validate.Length(max=URL_MAX_LENGTH))


class PageListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in PageStatus]))
    search = fields.String(validate=validate.Length(max=SEARCH_MAX_LENGTH),
                           metadata={"description": "Part of the title, any case."})


class VariantNameSchema(CamelSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX_LENGTH))


class OptionCreateSchema(CamelSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX_LENGTH))
    price_delta = _money("Added to the page amount (minor units, may be negative).", low=-MAX_AMOUNT, load_default=0)


class OptionUpdateSchema(CamelSchema):
    name = fields.String(validate=validate.Length(min=1, max=NAME_MAX_LENGTH))
    price_delta = _money("Added to the page amount (minor units, may be negative).", low=-MAX_AMOUNT)


def _ids_field(limit: int) -> fields.List:
    return fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)), required=True,
        validate=validate.Length(max=limit), metadata={"description": "Every id exactly once, in the new order."},
    )


class VariantReorderSchema(CamelSchema):
    ids = _ids_field(MAX_VARIANTS)


class OptionReorderSchema(CamelSchema):
    ids = _ids_field(MAX_OPTIONS)


PageListSchema = list_schema(PageSchema, "PageList")
VariantListSchema = list_schema(VariantSchema, "VariantList")
OptionListSchema = list_schema(OptionSchema, "OptionList")


# ---------- mapping ----------

def checkout_url(page: Page) -> str:
    return f"{current_app.config['APP_URL']}/c/{page.store.slug}/{page.slug}"


def page_view(page: Page) -> dict:
    """The page as PageSchema dumps it (pricing nested, stats zero if the row is missing)."""
    stats = page.stats
    return {
        "id": page.id, "slug": page.slug, "title": page.title, "description": page.description,
        "status": page.status,
        "pricing": {
            "type": page.pricing_type, "amount": page.amount, "currency": page.currency, "interval": page.interval,
            "interval_count": page.interval_count, "trial_days": page.trial_days,
        },
        "allow_coupons": page.allow_coupons, "success_url": page.success_url,
        "variants": page.variants, "custom_fields": page.custom_fields,
        "stats": stats or {"views": 0, "sessions": 0, "conversions": 0, "revenue": 0},
        "url": checkout_url(page),
        "created_at": page.created_at, "updated_at": page.updated_at, "published_at": page.published_at,
    }


_PRICING_ATTRIBUTES = {"type": "pricing_type", "amount": "amount", "currency": "currency", "interval": "interval",
                       "interval_count": "interval_count", "trial_days": "trial_days"}
#: For `nested_fields`: the page attributes that JSON bodies nest under `pricing`.
PRICING_PATHS = {attribute: f"pricing.{key}" for key, attribute in _PRICING_ATTRIBUTES.items()}


def page_changes(data: dict) -> dict:
    """A loaded create/update body as `checkie.catalog.pages` keyword arguments."""
    changes = {name: value for name, value in data.items() if name != "pricing"}
    for key, value in (data.get("pricing") or {}).items():
        changes[_PRICING_ATTRIBUTES[key]] = value
    return changes

