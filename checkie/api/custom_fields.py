"""JSON API: a page's custom fields (`/api/stores/<id>/pages/<pageId>/custom-fields`).

Reads need any role (viewer); changes need admin (API keys act as admin). Another store's page
or another page's field is a 404."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.common import auth_required, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.field_schemas import (
    CustomFieldCreateSchema,
    CustomFieldListSchema,
    CustomFieldReorderSchema,
    CustomFieldSchema,
    CustomFieldUpdateSchema,
)
from checkie.catalog import fields, pages
from checkie.catalog.models import CustomField, Page
from checkie.extensions import db
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_custom_fields", __name__, url_prefix="/api/stores",
    description="Custom fields: the questions a checkout page asks. Keys name the answers on checkout "
    "sessions, so once a page has checkout sessions its keys are frozen and its fields cannot be deleted (409).",
)


def _page(store_id: int, page_id: int, *, required: Role = Role.VIEWER, for_update: bool = False) -> Page:
    return pages.get_page(db.session, load_store(store_id, required=required), page_id, for_update=for_update)


def _field(store_id: int, page_id: int, field_id: int, *, required: Role = Role.ADMIN) -> CustomField:
    page = _page(store_id, page_id, required=required, for_update=required is Role.ADMIN)
    return fields.get_field(db.session, page, field_id)


def _listing(items: list[CustomField]) -> dict:
    return {"data": items, "next_cursor": None}


@blp.route("/<int:store_id>/pages/<int:page_id>/custom-fields")
class CustomFields(MethodView):
    @auth_required(blp)
    @blp.response(200, CustomFieldListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int):
        """The page's fields in the order shoppers see them (all of them: at most 50)."""
        return _listing(fields.list_fields(db.session, _page(store_id, page_id)))

    @auth_required(blp)
    @blp.arguments(CustomFieldCreateSchema)
    @blp.response(201, CustomFieldSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, page_id: int):
        """Add a field at the end of the form. Without `key`, one is derived from the label."""
        page = _page(store_id, page_id, required=Role.ADMIN, for_update=True)
        field = fields.create_field(
            db.session, page, label=data["label"], type=data["type"], key=data.get("key"),
            required=data["required"], options=data.get("options"), help_text=data.get("help_text"),
        )
        db.session.commit()
        return field


@blp.route("/<int:store_id>/pages/<int:page_id>/custom-fields/reorder")
class CustomFieldOrder(MethodView):
    @auth_required(blp)
    @blp.arguments(CustomFieldReorderSchema)
    @blp.response(200, CustomFieldListSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int):
        """Put the fields in the order of `ids`, which must list every field of the page exactly once."""
        page = _page(store_id, page_id, required=Role.ADMIN, for_update=True)
        ordered = fields.reorder_fields(db.session, page, data["ids"])
        db.session.commit()
        return _listing(ordered)


@blp.route("/<int:store_id>/pages/<int:page_id>/custom-fields/<int:field_id>")
class CustomFieldById(MethodView):
    @auth_required(blp)
    @blp.response(200, CustomFieldSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, page_id: int, field_id: int):
        return _field(store_id, page_id, field_id, required=Role.VIEWER)

    @auth_required(blp)
    @blp.arguments(CustomFieldUpdateSchema, required=False)
    @blp.response(200, CustomFieldSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, page_id: int, field_id: int):
        """Change what is sent. A different `key` is a 409 once the page has checkout sessions."""
        field = fields.update_field(db.session, _field(store_id, page_id, field_id), **data)
        db.session.commit()
        return field

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, store_id: int, page_id: int, field_id: int):
        """Delete a field; 409 once the page has checkout sessions (make it optional instead)."""
        fields.delete_field(db.session, _field(store_id, page_id, field_id))
        db.session.commit()
