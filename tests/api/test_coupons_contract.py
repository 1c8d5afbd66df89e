"""The coupon operations against their OpenAPI document, with real ids.

The suite-wide run (test_openapi_contract.py) checks every operation; this one runs the same
checks on the coupon operations alone, with
`coupon_id` pointing at a real coupon of the world's store most of the time, so reads, edits,
(de)activation and deletion are exercised for real."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from checkie.catalog.models import Coupon
from checkie.extensions import db as _db
from checkie.stores.models import Store
from tests.api import contract
from tests.factories import make_coupon, make_page

schema = contract.schema.include(path_regex="/coupons")


class CouponWorld(contract.ApiWorld):
    """The suite's world plus a page that takes coupons and a coupon, recreated when deleted."""

    coupon_id: int | None = None
    created_coupons: int = 0

    def ensure(self) -> str:
        token = super().ensure()
        with self.app.app_context():
            session = _db.session
            coupon = session.scalar(sa.select(Coupon).where(Coupon.store_id == self.store_id).limit(1))
            if coupon is None:
                store = session.get(Store, self.store_id)
                page = make_page(session, store, title="Contract page")
                self.created_coupons += 1
                coupon = make_coupon(session, store, code=f"CONTRACT{self.created_coupons}", page_ids=[page.id])
            self.coupon_id = coupon.id
            session.commit()
            session.remove()
        return token

    def point_ids(self, case) -> None:
        super().point_ids(case)
        value = (case.path_parameters or {}).get("coupon_id")
        if isinstance(value, int) and value % 2 == 0:
            case.path_parameters["coupon_id"] = self.coupon_id


@pytest.fixture
def coupon_world(app):
    return CouponWorld(app)


def test_the_document_lists_every_coupon_operation():
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert operations == {
        ("GET", "/api/stores/{store_id}/coupons"), ("POST", "/api/stores/{store_id}/coupons"),
        ("GET", "/api/stores/{store_id}/coupons/{coupon_id}"), ("PATCH", "/api/stores/{store_id}/coupons/{coupon_id}"),
        ("DELETE", "/api/stores/{store_id}/coupons/{coupon_id}"),
        ("POST", "/api/stores/{store_id}/coupons/{coupon_id}/deactivate"),
        ("POST", "/api/stores/{store_id}/coupons/{coupon_id}/activate"),
        ("POST", "/api/stores/{store_id}/coupons/evaluate"),
    }


@schema.parametrize()
@settings(
    max_examples=contract.MAX_EXAMPLES * 2,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_coupon_operations_match_the_document(case, coupon_world):
    token = coupon_world.ensure()
    if case.headers and case.headers.get("Authorization") == contract.USER_TOKEN:
        case.headers["Authorization"] = f"Bearer {token}"
    coupon_world.point_ids(case)
    case.call_and_validate(app=coupon_world.app, excluded_checks=[positive_data_acceptance])
