"""JSON API: stores (`/api/stores`) and their overview numbers."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import joinedload

from checkie.api.common import auth_required, current_principal, current_user, paginate
from checkie.api.errors import ApiBlueprint
from checkie.api.payment_schemas import StoreOverviewSchema
from checkie.api.schemas import PageArgsSchema
from checkie.api.store_schemas import (
    StoreCreateSchema,
    StoreListSchema,
    StoreSchema,
    StoreUpdateSchema,
    store_changes,
    store_view,
)
from checkie.extensions import db
from checkie.payments import reports
from checkie.payments.services import delete_store
from checkie.stores import access, services
from checkie.stores.models import MemberStatus, Role, Store, StoreMember

blp = ApiBlueprint(
    "api_stores", __name__, url_prefix="/api/stores",
    description="Stores. A user token sees every store it belongs to; an API key only its own store.",
)


def _page_of_stores(args: dict) -> dict:
    principal = current_principal()
    if principal.api_key is not None:
        stmt = sa.select(Store).where(Store.id == principal.api_key.store_id)
        page = paginate(stmt, Store.id, limit=args["limit"], cursor=args["cursor"])
        return {**page, "data": [store_view(s, access.API_KEY_ROLE) for s in page["data"]]}
    memberships = (
        sa.select(StoreMember).options(joinedload(StoreMember.store))
        .where(StoreMember.user_id == current_user().id, StoreMember.status == MemberStatus.ACTIVE)
    )
    page = paginate(memberships, StoreMember.id, limit=args["limit"], cursor=args["cursor"])
    return {**page, "data": [store_view(m.store, m.role) for m in page["data"]]}


@blp.route("")
class Stores(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, StoreListSchema)
    def get(self, args):
        """The caller's stores, most recently joined first."""
        return _page_of_stores(args)

    @auth_required(blp)
    @blp.arguments(StoreCreateSchema)
    @blp.response(201, StoreSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data):
        """Open a store owned by the calling user (user tokens only: an API key gets 403)."""
        access.refuse_api_key(current_principal().api_key, "create stores")
        store = services.create_store(
            db.session, owner=current_principal().user, name=data["name"],
            currency=data["currency"], slug=data.get("slug"),
        )
        db.session.commit()
        return store_view(store, Role.OWNER)


@blp.route("/<int:store_id>")
class StoreById(MethodView):
    @auth_required(blp)
    @blp.response(200, StoreSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int):
        store, role = access.store_for_principal(db.session, current_principal(), store_id)
        return store_view(store, role)

    @auth_required(blp)
    @blp.arguments(StoreUpdateSchema, required=False)
    @blp.response(200, StoreSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int):
        """Change name, slug, currency, `notifyNewSale` or the portal settings (admins and owners; API
        keys act as admin). A bad `brandColor` is a 422."""
        store, role = access.store_for_principal(db.session, current_principal(), store_id, required=Role.ADMIN)
        services.update_store(db.session, store, **store_changes(data))
        db.session.commit()
        return store_view(store, role)

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, store_id: int):
        """Delete the store with its members and API keys (the owner only; never an API key).
        409 once the store has taken payments: their records and the ledger are kept."""
        store, _ = access.store_for_principal(
            db.session, current_principal(), store_id, required=Role.OWNER, people_only="delete the store"
        )
        delete_store(db.session, store)
        db.session.commit()


@blp.route("/<int:store_id>/stats")
class StoreStats(MethodView):
    @auth_required(blp)
    @blp.response(200, StoreOverviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int):
        """Overview numbers: payments and revenue per currency; page views, checkout sessions,
        conversions and the conversion rate from the pages' counters."""
        store, _ = access.store_for_principal(db.session, current_principal(), store_id)
        return reports.store_overview(db.session, store)
