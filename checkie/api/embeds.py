"""JSON API: embeds of a page (`/api/stores/<id>/pages/<pageId>/embeds`) and each embed with its
snippet (`/api/stores/<id>/embeds/<embedId>[/code]`, by the integer `id`, not the public `emb_…`).

Reads need any role (viewer); creating and deleting need admin (API keys act as admin)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from checkie.api.common import auth_required, load_store, paginate
from checkie.api.embed_schemas import (
    SETTINGS_PATHS,
    EmbedCodeSchema,
    EmbedCreateSchema,
    EmbedListSchema,
    EmbedSchema,
    embed_view,
)
from checkie.api.errors import ApiBlueprint
from checkie.api.schemas import PageArgsSchema, nested_fields
from checkie.catalog import embeds, pages
from checkie.catalog.models import Embed
from checkie.extensions import db
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_embeds", __name__, url_prefix="/api/stores",
    description="Embeds put a checkout page on the merchant's site: an iframe (inline), a button opening an "
    "overlay, or a link. `…/code` gives the HTML to paste; it loads /static/embed.js and frames /embed/<embedId>.",
)


def _embed(store_id: int, embed_id: int, *, required: Role = Role.VIEWER) -> Embed:
    return embeds.get_embed(db.session, load_store(store_id, required=required), embed_id)


@blp.route("/<int:store_id>/pages/<int:page_id>/embeds")
class PageEmbeds(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EmbedListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int, page_id: int):
        """The page's embeds, newest first."""
        page = pages.get_page(db.session, load_store(store_id), page_id)
        listing = paginate(embeds.embeds_of_page(page), Embed.id, limit=args["limit"], cursor=args["cursor"])
        return {**listing, "data": [embed_view(e) for e in listing["data"]]}

    @auth_required(blp)
    @blp.arguments(EmbedCreateSchema)
    @blp.response(201, EmbedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, page_id: int):
        """Create an embed. Shoppers see the checkout only while the page is published."""
        page = pages.get_page(db.session, load_store(store_id, required=Role.ADMIN), page_id)
        with nested_fields(SETTINGS_PATHS):
            embed = embeds.create_embed(
                db.session, page, type=data["type"], allowed_origins=data.get("allowed_origins"),
                **data.get("settings", {}),
            )
        db.session.commit()
        return embed_view(embed)


@blp.route("/<int:store_id>/embeds/<int:embed_id>")
class EmbedById(MethodView):
    @auth_required(blp)
    @blp.response(200, EmbedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, embed_id: int):
        return embed_view(_embed(store_id, embed_id))

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, store_id: int, embed_id: int):
        """Delete the embed: pasted snippets stop showing the checkout."""
        embeds.delete_embed(db.session, _embed(store_id, embed_id, required=Role.ADMIN))
        db.session.commit()


@blp.route("/<int:store_id>/embeds/<int:embed_id>/code")
class EmbedCode(MethodView):
    @auth_required(blp)
    @blp.response(200, EmbedCodeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, embed_id: int):
        """The HTML to paste into the merchant's site."""
        return {"html": embeds.embed_code(_embed(store_id, embed_id), current_app.config["APP_URL"])}
