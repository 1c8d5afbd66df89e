"""JSON API: a store's webhook endpoints (`/api/stores/<id>/webhooks`) and their delivery log.

Everyone in the store reads (viewers too); admins, owners and API keys write. Another store's
endpoint or delivery is a 404. An endpoint's secret is in the create and rotate answers only."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.schemas import PageArgsSchema
from checkie.api.webhook_schemas import (
    WebhookDeliveryDetailSchema,
    WebhookDeliveryListArgsSchema,
    WebhookDeliveryListSchema,
    WebhookDeliverySchema,
    WebhookEndpointCreatedSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointListSchema,
    WebhookEndpointSchema,
    WebhookEndpointUpdateSchema,
    WebhookReplayedSchema,
    WebhookReplaySchema,
    WebhookSecretSchema,
    delivery_detail,
    delivery_view,
    endpoint_view,
)
from checkie.extensions import db
from checkie.pagination import decode_cursor, keyset_page
from checkie.stores.models import Role
from checkie.webhooks import services
from checkie.webhooks.models import WebhookDelivery, WebhookEndpoint

blp = ApiBlueprint(
    "api_webhooks", __name__, url_prefix="/api/stores",
    description="Webhook endpoints: URLs that receive the store's events as signed POSTs (see /docs/webhooks), "
    "and the log of every delivery with its attempts.",
)


def _endpoint(store_id: int, endpoint_id: int, *, required: Role = Role.VIEWER) -> WebhookEndpoint:
    return services.get_endpoint(db.session, load_store(store_id, required=required).id, endpoint_id)


@blp.route("/<int:store_id>/webhooks")
class WebhookEndpoints(MethodView):
    @auth_required(blp)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, WebhookEndpointListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's endpoints, newest first. Never their secrets."""
        stmt = sa.select(WebhookEndpoint).where(WebhookEndpoint.store_id == load_store(store_id).id)
        page = keyset_page(db.session, stmt, WebhookEndpoint.id, after=decode_cursor(args["cursor"]), limit=args["limit"])
        return listing(page, endpoint_view)

    @auth_required(blp)
    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointCreatedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """Create an enabled endpoint. `secret` is shown here (and after a rotation) and never again."""
        store = load_store(store_id, required=Role.ADMIN)
        endpoint, secret = services.create_endpoint(db.session, store, **data)
        db.session.commit()
        return endpoint_view(endpoint, secret=secret)


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>")
class WebhookEndpointById(MethodView):
    @auth_required(blp)
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, endpoint_id: int):
        return endpoint_view(_endpoint(store_id, endpoint_id))

    @auth_required(blp)
    @blp.arguments(WebhookEndpointUpdateSchema, required=False)
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, endpoint_id: int):
        """Change what is sent: `url`, `events`, `description`, `enabled`."""
        endpoint = services.update_endpoint(db.session, _endpoint(store_id, endpoint_id, required=Role.ADMIN), **data)
        db.session.commit()
        return endpoint_view(endpoint)

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, store_id: int, endpoint_id: int):
        """Delete the endpoint with its deliveries and their log: nothing more is sent to it."""
        services.delete_endpoint(db.session, _endpoint(store_id, endpoint_id, required=Role.ADMIN))
        db.session.commit()


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>/rotate-secret")
class WebhookSecretRotation(MethodView):
    @auth_required(blp)
    @blp.response(200, WebhookSecretSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, store_id: int, endpoint_id: int):
        """A new secret, shown this once; the old one keeps signing, as a second signature, for 24 hours."""
        secret = services.rotate_secret(db.session, _endpoint(store_id, endpoint_id, required=Role.ADMIN))
        db.session.commit()
        return {"secret": secret}


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>/test")
class WebhookTestEvent(MethodView):
    @auth_required(blp)
    @blp.response(202, WebhookDeliverySchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, store_id: int, endpoint_id: int):
        """Send a `ping` event to this endpoint only (409 while it is disabled); its delivery is
        in the log like any other."""
        delivery = services.send_test_event(db.session, _endpoint(store_id, endpoint_id, required=Role.ADMIN))
        db.session.commit()
        return delivery_view(delivery)


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @auth_required(blp)
    @blp.arguments(WebhookDeliveryListArgsSchema, location="query")
    @blp.response(200, WebhookDeliveryListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int, endpoint_id: int):
        """The endpoint's deliveries, newest first; `status` filters."""
        stmt = services.deliveries_query(_endpoint(store_id, endpoint_id), status=args["status"])
        page = keyset_page(db.session, stmt, WebhookDelivery.id, after=decode_cursor(args["cursor"]), limit=args["limit"])
        return listing(page, delivery_view)


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
class WebhookDeliveryById(MethodView):
    @auth_required(blp)
    @blp.response(200, WebhookDeliveryDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, endpoint_id: int, delivery_id: int):
        """The delivery with every attempt (`attemptLog`), oldest first."""
        delivery = services.get_delivery(db.session, _endpoint(store_id, endpoint_id), delivery_id)
        return delivery_detail(delivery, services.delivery_attempts(db.session, delivery))


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
class WebhookDeliveryResend(MethodView):
    @auth_required(blp)
    @blp.response(202, WebhookDeliverySchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, store_id: int, endpoint_id: int, delivery_id: int):
        """Send it again now, as a new round of attempts with the same event id (409 while the
        endpoint is disabled)."""
        endpoint = _endpoint(store_id, endpoint_id, required=Role.ADMIN)
        delivery = services.resend_delivery(db.session, services.get_delivery(db.session, endpoint, delivery_id))
        db.session.commit()
        return delivery_view(delivery)


@blp.route("/<int:store_id>/webhooks/<int:endpoint_id>/replay")
class WebhookReplay(MethodView):
    @auth_required(blp)
    @blp.arguments(WebhookReplaySchema)
    @blp.response(200, WebhookReplayedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, endpoint_id: int):
        """Send again every failed delivery of this endpoint created since `since`."""
        endpoint = _endpoint(store_id, endpoint_id, required=Role.ADMIN)
        replayed = services.replay_failed(db.session, endpoint, data["since"])
        db.session.commit()
        return {"replayed": replayed}
