"""JSON API: a store's subscriptions (`/api/stores/<id>/subscriptions…`) and, in test mode, its
test clock (`/api/stores/<id>/test-clock…`).

Everyone in the store reads (viewers too); owners, admins and API keys act. Every action goes
through the subscription services, whose table of moves answers an illegal one with a 409
`invalid_subscription_action` and changes nothing."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.common import auth_required, listing, load_store
from checkie.api.errors import ApiBlueprint
from checkie.api.subscription_schemas import (
    CancelBodySchema,
    ClockAdvanceBodySchema,
    ClockAdvancedSchema,
    ClockSchema,
    SubscriptionDetailSchema,
    SubscriptionListArgsSchema,
    SubscriptionListSchema,
    SubscriptionSchema,
    subscription_members,
)
from checkie.extensions import db
from checkie.pagination import Slice, decode_cursor
from checkie.stores.models import Role
from checkie.subscriptions import clock, renewals, services

blp = ApiBlueprint(
    "api_subscriptions", __name__, url_prefix="/api/stores",
    description="Subscriptions: recurring payments of a subscription page, their cancellation, pause and "
                "resume; and, in test mode, the store's test clock that moves their trials and renewals.",
)


@blp.route("/<int:store_id>/subscriptions")
class Subscriptions(MethodView):
    @auth_required(blp)
    @blp.arguments(SubscriptionListArgsSchema, location="query")
    @blp.response(200, SubscriptionListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's subscriptions, newest first; filter by `status` and `email` (an address or part of one)."""
        rows, more = services.subscriptions_of(
            db.session, load_store(store_id), status=args.get("status"), email=args.get("email"),
            before_id=decode_cursor(args["cursor"]), limit=args["limit"],
        )
        return listing(Slice(rows, more))


@blp.route("/<int:store_id>/subscriptions/<int:subscription_id>")
class SubscriptionById(MethodView):
    @auth_required(blp)
    @blp.response(200, SubscriptionDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, subscription_id: int):
        """One subscription with its payments, newest first."""
        subscription = services.subscription_of(db.session, load_store(store_id), subscription_id)
        return {**subscription_members(subscription), "payments": services.payments_of(db.session, subscription)}


def _acted_on(store_id: int, subscription_id: int):
    """The subscription an owner, admin or API key may act on (viewers 403, other stores 404)."""
    return services.subscription_of(db.session, load_store(store_id, required=Role.ADMIN), subscription_id)


@blp.route("/<int:store_id>/subscriptions/<int:subscription_id>/cancel")
class SubscriptionCancel(MethodView):
    @auth_required(blp)
    @blp.arguments(CancelBodySchema)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int, subscription_id: int):
        """End it now (`atPeriodEnd` false: no more renewals) or at the end of its period (true:
        it runs until `currentPeriodEnd`; `…/resume` takes that back). 409
        `invalid_subscription_action` when its status does not allow it."""
        subscription = services.cancel(db.session, _acted_on(store_id, subscription_id),
                                       at_period_end=data["at_period_end"], reason=data["reason"])
        db.session.commit()
        return subscription


@blp.route("/<int:store_id>/subscriptions/<int:subscription_id>/pause")
class SubscriptionPause(MethodView):
    @auth_required(blp)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, store_id: int, subscription_id: int):
        """Stop charging an active subscription; what is left of its period waits for `…/resume`.
        409 `invalid_subscription_action` when its status does not allow it."""
        subscription = services.pause(db.session, _acted_on(store_id, subscription_id))
        db.session.commit()
        return subscription


@blp.route("/<int:store_id>/subscriptions/<int:subscription_id>/resume")
class SubscriptionResume(MethodView):
    @auth_required(blp)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, store_id: int, subscription_id: int):
        """Keep one set to cancel at its period's end, or resume a paused one (its period goes on
        for what was left of it). 409 `invalid_subscription_action` otherwise."""
        subscription = services.resume(db.session, _acted_on(store_id, subscription_id))
        db.session.commit()
        return subscription


@blp.route("/<int:store_id>/test-clock")
class StoreClock(MethodView):
    @auth_required(blp)
    @blp.response(200, ClockSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int):
        """The store's present: the wall clock, plus however far its test clock was advanced."""
        return {"now": clock.now(db.session, load_store(store_id).id)}


@blp.route("/<int:store_id>/test-clock/advance")
class StoreClockAdvance(MethodView):
    @auth_required(blp)
    @blp.arguments(ClockAdvanceBodySchema)
    @blp.response(200, ClockAdvancedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """Test mode only (else 409 `test_mode_only`): move the store's clock `days` (1–730)
        forward and settle everything that falls due on the way, in order (trials' ends,
        renewals, dunning retries), before answering."""
        store = load_store(store_id, required=Role.ADMIN)
        now, renewed = renewals.advance_clock(db.session, store, days=data["days"])
        return {"now": now, "renewals": renewed}
