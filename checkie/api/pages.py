"""JSON API: a store's checkout pages (`/api/stores/<storeId>/pages…`) — list, create, read,
update, delete, and the publish / archive / unpublish / duplicate actions."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy.orm import joinedload, selectinload

from checkie.api.common import auth_required, load_store, paginate
from checkie.api.errors import ApiBlueprint
from checkie.api.page_schemas import (
    PRICING_PATHS,
    PageCreateSchema,
    PageListArgsSchema,
    PageListSchema,
    PageSchema,
    PageUpdateSchema,
    page_changes,
    page_view,
)
from checkie.api.schemas import nested_fields
from checkie.catalog import pages
from checkie.catalog.models import Page, Variant
from checkie.extensions import db
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_pages", __name__, url_prefix="/api/stores",
    description="Checkout pages: what a store sells and at what price. Created as drafts; only published pages are on sale.",
)

_EAGER = (
    selectinload(Page.variants).selectinload(Variant.options),
    selectinload(Page.custom_fields),
    joinedload(Page.stats),
    joinedload(Page.store),
)


def _page(store_id: int, page_id: int, *, required: Role = Role.ADMIN) -> Page:
    """Readers get the page as is; writers (admins, API keys) get it row-locked."""
    store = load_store(store_id, required=required)
    return pages.get_page(db.session, store, page_id, for_update=required is not Role.VIEWER)


@blp.route("/<int:store_id>/pages")
class Pages(MethodView):
    @auth_required(blp)
    @blp.arguments(PageListArgsSchema, location="query")
    @blp.response(200, PageListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's pages, newest first; filter with `status` and `search` (in the title)."""
        store = load_store(store_id)
        stmt = pages.pages_query(store, status=args.get("status"), search=args.get("search")).options(*_EAGER)
        result = paginate(stmt, Page.id, limit=args["limit"], cursor=args["cursor"])
        return {**result, "data": [page_view(page) for page in result["data"]]}

    @auth_required(blp)
    @blp.arguments(PageCreateSchema)
    @blp.response(201, PageSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """Create a draft page. The currency defaults to the store's; the slug to one from the title."""
        store = load_store(store_id, required=Role.ADMIN)
        with nested_fields(PRICING_PATHS):
            page = pages.create_page(db.session, store, **page_changes(data))
        db.session.commit()
        return page_view(page)


@blp.route("/<int:store_id>/pages/<int:page_id>")
class PageById(MethodView):
    @auth_required(blp)
    @blp.response(200, PageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int):
        return page_view(_page(store_id, page_id, required=Role.VIEWER))

    @auth_required(blp)
    @blp.arguments(PageUpdateSchema, required=False)
    @blp.response(200, PageSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int):
        """Change any of the fields; `pricing` may be partial. A published page must stay buyable."""
        page = _page(store_id, page_id)
        with nested_fields(PRICING_PATHS):
            pages.update_page(db.session, page, **page_changes(data))
        db.session.commit()
        return page_view(page)

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, store_id: int, page_id: int):
        """Delete a draft without checkout sessions; any other page answers 409: archive it instead."""
        pages.delete_page(db.session, _page(store_id, page_id))
        db.session.commit()


def _action(name: str, service, summary: str, *, status: int = 200, problems: bool = False, conflicts: bool = True):
    """POST /pages/<pageId>/<name>: apply `service` to the page and answer the (new) page."""

    def post(self, store_id: int, page_id: int):
        with nested_fields(PRICING_PATHS):  # why the page cannot be published
            page = service(db.session, _page(store_id, page_id))
        db.session.commit()
        return page_view(page)

    if problems:
        post = blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(post)
    if conflicts:
        post = blp.alt_response(409, response="CONFLICT")(post)
    for decorate in (blp.alt_response(404, response="NOT_FOUND"), blp.alt_response(403, response="FORBIDDEN"),
                     blp.response(status, PageSchema), auth_required(blp)):
        post = decorate(post)
    post.__doc__ = summary
    view = type(f"Page{name.title()}", (MethodView,), {"post": post})
    blp.route(f"/<int:store_id>/pages/<int:page_id>/{name}", endpoint=f"Page{name.title()}")(view)


_action("publish", pages.publish_page,
        "Put the page on sale. 422 lists every reason it cannot be bought yet; 409 if already published.", problems=True)
_action("archive", pages.archive_page, "Take the page off sale and out of the way (it keeps its history).")
_action("unpublish", pages.unpublish_page, "Back to draft: off sale, editable, publishable again.")
_action("duplicate", pages.duplicate_page, "A new draft copy with the variants, options and custom fields, under a fresh slug.",
        status=201, conflicts=False)
