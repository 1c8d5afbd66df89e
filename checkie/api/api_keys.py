"""JSON API: a store's API keys (`/api/stores/<id>/api-keys`).

Admins and the owner manage keys with a user token; an API key cannot list, mint or revoke keys
(403), so a leaked key cannot entrench itself."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from checkie.api.common import auth_required, current_principal, paginate
from checkie.api.errors import ApiBlueprint
from checkie.api.schemas import PageArgsSchema
from checkie.api.store_schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyListSchema,
    created_key_view,
)
from checkie.extensions import db
from checkie.stores import access, api_keys
from checkie.stores.models import ApiKey, Role

blp = ApiBlueprint(
    "api_api_keys", __name__, url_prefix="/api/stores",
    description="Store API keys (`ck_test_…`): the secret is in the create answer only. Not available to API keys.",
)
_PEOPLE_ONLY = "manage API keys"


@blp.route("/<int:store_id>/api-keys")
class ApiKeys(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ApiKeyListSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, store_id: int):
        """The store's keys, newest first, revoked ones included. Never the secrets."""
        store, _ = access.store_for_principal(db.session, current_principal(), store_id, people_only=_PEOPLE_ONLY)
        stmt = sa.select(ApiKey).where(ApiKey.store_id == store.id)
        return paginate(stmt, ApiKey.id, limit=args["limit"], cursor=args["cursor"])

    @auth_required(blp)
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyCreatedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """Create a test-mode key (admin or owner). `key` is shown here and never again."""
        principal = current_principal()
        store, _ = access.store_for_principal(db.session, principal, store_id, required=Role.ADMIN, people_only=_PEOPLE_ONLY)
        key, raw_key = api_keys.create_api_key(db.session, store, name=data["name"], created_by=principal.user)
        db.session.commit()
        return created_key_view(key, raw_key)


@blp.route("/<int:store_id>/api-keys/<int:key_id>")
class ApiKeyById(MethodView):
    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, store_id: int, key_id: int):
        """Revoke the key: requests using it are refused from now on. Revoking again is a no-op."""
        store, _ = access.store_for_principal(
            db.session, current_principal(), store_id, required=Role.ADMIN, people_only=_PEOPLE_ONLY
        )
        api_keys.revoke_api_key(db.session, api_keys.get_api_key(db.session, store, key_id))
        db.session.commit()
