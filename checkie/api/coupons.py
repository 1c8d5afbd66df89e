"""JSON API: a store's coupons (`/api/stores/<id>/coupons`) and checking a code against a page.

Everyone in the store reads (viewers too); admins, owners and API keys write. Another store's
coupon or page is a 404."""
from __future__ import annotations

from flask.views import MethodView

from checkie.api.common import auth_required, load_store, paginate
from checkie.api.coupon_schemas import (
    CouponCreateSchema,
    CouponEvaluateSchema,
    CouponEvaluationSchema,
    CouponListArgsSchema,
    CouponListSchema,
    CouponSchema,
    CouponUpdateSchema,
    evaluation_view,
)
from checkie.api.errors import ApiBlueprint
from checkie.catalog import coupons, pages
from checkie.catalog.models import Coupon
from checkie.extensions import db
from checkie.stores.models import Role

blp = ApiBlueprint(
    "api_coupons", __name__, url_prefix="/api/stores",
    description="Coupons: a percentage or a fixed amount off, with optional limits (redemptions, expiry, "
    "pages, minimum subtotal). Codes are unique per store regardless of letter case.",
)


def _admin_coupon(store_id: int, coupon_id: int) -> Coupon:
    return coupons.get_coupon(db.session, load_store(store_id, required=Role.ADMIN), coupon_id)


@blp.route("/<int:store_id>/coupons")
class Coupons(MethodView):
    @auth_required(blp)
    @blp.arguments(CouponListArgsSchema, location="query")
    @blp.response(200, CouponListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args, store_id: int):
        """The store's coupons, newest first; `active` filters."""
        stmt = coupons.coupons_stmt(load_store(store_id), active=args["active"])
        return paginate(stmt, Coupon.id, limit=args["limit"], cursor=args["cursor"])

    @auth_required(blp)
    @blp.arguments(CouponCreateSchema)
    @blp.response(201, CouponSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """Create an active coupon: `percentOff` or `amountOff` with its `currency`."""
        store = load_store(store_id, required=Role.ADMIN)
        coupon = coupons.create_coupon(db.session, store, **data)
        db.session.commit()
        return coupon


@blp.route("/<int:store_id>/coupons/<int:coupon_id>")
class CouponById(MethodView):
    @auth_required(blp)
    @blp.response(200, CouponSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id: int, coupon_id: int):
        return coupons.get_coupon(db.session, load_store(store_id), coupon_id)

    @auth_required(blp)
    @blp.arguments(CouponUpdateSchema, required=False)
    @blp.response(200, CouponSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data, store_id: int, coupon_id: int):
        """Change what is sent; null clears an optional field."""
        coupon = _admin_coupon(store_id, coupon_id)
        coupons.update_coupon(db.session, coupon, data)
        db.session.commit()
        return coupon

    @auth_required(blp)
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, store_id: int, coupon_id: int):
        """Delete the coupon. Its code stops working at once and can be used for a new coupon."""
        coupons.delete_coupon(db.session, _admin_coupon(store_id, coupon_id))
        db.session.commit()


@blp.route("/<int:store_id>/coupons/<int:coupon_id>/deactivate")
class CouponDeactivate(MethodView):
    @auth_required(blp)
    @blp.response(200, CouponSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, store_id: int, coupon_id: int):
        """Stop the code from working (reactivate with …/activate)."""
        coupon = coupons.deactivate_coupon(db.session, _admin_coupon(store_id, coupon_id))
        db.session.commit()
        return coupon


@blp.route("/<int:store_id>/coupons/<int:coupon_id>/activate")
class CouponActivate(MethodView):
    @auth_required(blp)
    @blp.response(200, CouponSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, store_id: int, coupon_id: int):
        coupon = coupons.activate_coupon(db.session, _admin_coupon(store_id, coupon_id))
        db.session.commit()
        return coupon


@blp.route("/<int:store_id>/coupons/evaluate")
class CouponEvaluate(MethodView):
    @auth_required(blp)
    @blp.arguments(CouponEvaluateSchema)
    @blp.response(200, CouponEvaluationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data, store_id: int):
        """What a shopper would get for `code` on the page at `amount` (the widget runs the same
        check): the discount and total, or why the code does not apply. Changes nothing."""
        store = load_store(store_id)
        page = pages.get_page(db.session, store, data["page_id"])
        result = coupons.evaluate_coupon(
            db.session, store, data["code"], page=page, subtotal=data["amount"], currency=page.currency
        )
        return evaluation_view(result)
