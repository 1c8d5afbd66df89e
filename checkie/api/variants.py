"""JSON API: a page's variants and their options
(`/api/stores/<storeId>/pages/<pageId>/variants…`, `…/variants/<variantId>/options…`).

Every change keeps the price floor (the page amount plus each variant's cheapest option is
never below zero); a change that breaks it is a 422."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.common import auth_required, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.page_schemas import (
    OptionCreateSchema,
    OptionListSchema,
    OptionReorderSchema,
    OptionSchema,
    OptionUpdateSchema,
    VariantListSchema,
    VariantNameSchema,
    VariantReorderSchema,
    VariantSchema,
)
from checkie.catalog import pages, variants
from checkie.catalog.models import Page, Variant, VariantOption
from checkie.extensions import db
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_variants", __name__, url_prefix="/api/stores",
    description="Variants of a page (e.g. Size) and their ordered options with price deltas in minor units.",
)

VARIANTS = "/<int:store_id>/pages/<int:page_id>/variants"
OPTIONS = VARIANTS + "/<int:variant_id>/options"


def _page(store_id: int, page_id: int, *, write: bool = True) -> Page:
    """Through the caller's store, always: another store's page is a 404. Writers lock the page."""
    store = load_store(store_id, required=Role.ADMIN if write else Role.VIEWER)
    return pages.get_page(db.session, store, page_id, for_update=write)


def _variant(store_id: int, page_id: int, variant_id: int, *, write: bool = True) -> Variant:
    return variants.get_variant(db.session, _page(store_id, page_id, write=write), variant_id)


def _option(store_id: int, page_id: int, variant_id: int, option_id: int) -> VariantOption:
    return variants.get_option(db.session, _variant(store_id, page_id, variant_id), option_id)


def _listed(items: list) -> dict:
    """Variants and options are few (at most 20 and 50) and ordered by position: one page always."""
    return {"data": items, "nextCursor": None}


@blp.route(VARIANTS)
class Variants(MethodView):
    @auth_required(blp)
    @blp.response(200, VariantListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int):
        """The page's variants with their options, in position order (never more than one page)."""
        return _listed(list(_page(store_id, page_id, write=False).variants))

    @auth_required(blp)
    @blp.arguments(VariantNameSchema)
    @blp.response(201, VariantSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, page_id: int):
        """Add a variant at the end (no options yet; a published page must be unpublished first)."""
        variant = variants.add_variant(db.session, _page(store_id, page_id), name=data["name"])
        db.session.commit()
        return variant


@blp.route(VARIANTS + "/reorder")
class VariantOrder(MethodView):
    @auth_required(blp)
    @blp.arguments(VariantReorderSchema)
    @blp.response(200, VariantListSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int):
        """Send every variant id of the page once, in the new order."""
        ordered = variants.reorder_variants(db.session, _page(store_id, page_id), data["ids"])
        db.session.commit()
        return _listed(ordered)


@blp.route(VARIANTS + "/<int:variant_id>")
class VariantById(MethodView):
    @auth_required(blp)
    @blp.response(200, VariantSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int, variant_id: int):
        return _variant(store_id, page_id, variant_id, write=False)

    @auth_required(blp)
    @blp.arguments(VariantNameSchema)
    @blp.response(200, VariantSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int, variant_id: int):
        """Rename the variant."""
        variant = variants.rename_variant(db.session, _variant(store_id, page_id, variant_id), name=data["name"])
        db.session.commit()
        return variant

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def delete(self, store_id: int, page_id: int, variant_id: int):
        """Delete the variant and its options (422 if the rest would cost less than nothing)."""
        variants.delete_variant(db.session, _variant(store_id, page_id, variant_id))
        db.session.commit()


@blp.route(OPTIONS)
class Options(MethodView):
    @auth_required(blp)
    @blp.response(200, OptionListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int, variant_id: int):
        """The variant's options in position order (never more than one page)."""
        return _listed(list(_variant(store_id, page_id, variant_id, write=False).options))

    @auth_required(blp)
    @blp.arguments(OptionCreateSchema)
    @blp.response(201, OptionSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, page_id: int, variant_id: int):
        """Add an option at the end; `priceDelta` is in minor units and may be negative."""
        option = variants.add_option(
            db.session, _variant(store_id, page_id, variant_id), name=data["name"], price_delta=data["price_delta"]
        )
        db.session.commit()
        return option


@blp.route(OPTIONS + "/reorder")
class OptionOrder(MethodView):
    @auth_required(blp)
    @blp.arguments(OptionReorderSchema)
    @blp.response(200, OptionListSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int, variant_id: int):
        """Send every option id of the variant once, in the new order."""
        ordered = variants.reorder_options(db.session, _variant(store_id, page_id, variant_id), data["ids"])
        db.session.commit()
        return _listed(ordered)


@blp.route(OPTIONS + "/<int:option_id>")
class OptionById(MethodView):
    @auth_required(blp)
    @blp.response(200, OptionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int, variant_id: int, option_id: int):
        variant = _variant(store_id, page_id, variant_id, write=False)
        return variants.get_option(db.session, variant, option_id)

    @auth_required(blp)
    @blp.arguments(OptionUpdateSchema, required=False)
    @blp.response(200, OptionSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int, variant_id: int, option_id: int):
        """Rename and/or reprice the option (422 if the cheapest total would fall below zero)."""
        option = variants.update_option(
            db.session, _option(store_id, page_id, variant_id, option_id),
            name=data.get("name"), price_delta=data.get("price_delta"),
        )
        db.session.commit()
        return option

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def delete(self, store_id: int, page_id: int, variant_id: int, option_id: int):
        """Delete the option (422 for the last option of a published page's variant, or below the price floor)."""
        variants.delete_option(db.session, _option(store_id, page_id, variant_id, option_id))
        db.session.commit()
