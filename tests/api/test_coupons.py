"""JSON API: /api/stores/<id>/coupons — create, list, read, edit, (de)activate, delete, evaluate."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.catalog.coupons import reserve_redemption
from checkie.catalog.models import Coupon
from checkie.database import utcnow
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_coupon, make_page, make_store, make_user
from tests.http import access_token_for, bearer

COUPON_KEYS = {
    "id", "code", "percentOff", "amountOff", "currency", "maxRedemptions", "redemptionCount", "expiresAt",
    "active", "pageIds", "minimumAmount", "duration", "durationMonths", "createdAt",
}


@pytest.fixture
def other_store(db):
    store = make_store(db, name="Other Shop", slug="other")
    db.commit()
    return store


def url(store, *parts) -> str:
    return "/".join([f"/api/stores/{store.id}/coupons", *(str(p) for p in parts)])


def test_create_a_percentage_coupon(client, store, auth):
    response = client.post(url(store), json={"code": "Summer15", "percentOff": 15}, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == COUPON_KEYS
    assert body["code"] == "Summer15" and body["percentOff"] == 15 and body["amountOff"] is None
    assert body["active"] is True and body["redemptionCount"] == 0 and body["pageIds"] == []
    assert body["duration"] == "once" and body["durationMonths"] is None and body["expiresAt"] is None


def test_create_a_fixed_amount_coupon_with_every_term(client, db, store, auth):
    page = make_page(db, store)
    db.commit()
    expires = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    payload = {
        "code": "TENOFF", "amountOff": 1000, "currency": "EUR", "maxRedemptions": 100,
        "expiresAt": expires.isoformat(), "pageIds": [page.id], "minimumAmount": 5000,
        "duration": "repeating", "durationMonths": 3,
    }
    body = client.post(url(store), json=payload, headers=auth).json
    assert {k: body[k] for k in payload if k != "expiresAt"} == {k: v for k, v in payload.items() if k != "expiresAt"}
    assert body["percentOff"] is None and body["expiresAt"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))


def test_an_expiry_without_offset_is_utc(client, store, auth):
    body = client.post(url(store), json={"code": "NAIVE", "percentOff": 5, "expiresAt": "2099-01-02T03:04:05"}, headers=auth).json
    assert body["expiresAt"] == "2099-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"code": "NONE"}, {"percentOff", "amountOff"}),
        ({"code": "BOTH", "percentOff": 10, "amountOff": 100, "currency": "USD"}, {"percentOff", "amountOff"}),
        ({"code": "NOCUR", "amountOff": 100}, {"currency"}),
        ({"code": "MIN", "percentOff": 10, "minimumAmount": 100}, {"currency"}),
        ({"code": "ab", "percentOff": 10}, {"code"}),
        ({"code": "two words", "percentOff": 10}, {"code"}),
        ({"code": "NEWLINE\n", "percentOff": 10}, {"code"}),
        ({"code": "STR", "percentOff": "10"}, {"percentOff"}),
        ({"code": "FLOAT", "percentOff": 10.5}, {"percentOff"}),
        ({"code": "BIG", "percentOff": 101}, {"percentOff"}),
        ({"code": "ZERO", "amountOff": 0, "currency": "USD"}, {"amountOff"}),
        ({"code": "CUR", "amountOff": 100, "currency": "usd"}, {"currency"}),
        ({"code": "MAX", "percentOff": 10, "maxRedemptions": 0}, {"maxRedemptions"}),
        ({"code": "PAST", "percentOff": 10, "expiresAt": "2001-01-01T00:00:00Z"}, {"expiresAt"}),
        ({"code": "EDGE", "percentOff": 10, "expiresAt": "0001-01-01T00:00:00+05:00"}, {"expiresAt"}),
        ({"code": "REP", "percentOff": 10, "duration": "repeating"}, {"durationMonths"}),
        ({"code": "ONCE", "percentOff": 10, "durationMonths": 2}, {"durationMonths"}),
        ({"code": "IDS", "percentOff": 10, "pageIds": [2**63]}, {"pageIds.0"}),
        ({"code": "EXTRA", "percentOff": 10, "colour": "red"}, {"colour"}),
    ],
)
def test_invalid_coupons_are_422_on_the_json_field(client, db, store, auth, payload, fields):
    response = client.post(url(store), json=payload, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert set(response.json["error"]["fields"]) == fields
    assert db.scalar(sa.select(sa.func.count(Coupon.id))) == 0


def test_pages_of_another_store_are_refused(client, db, store, other_store, auth):
    foreign = make_page(db, other_store)
    db.commit()
    response = client.post(url(store), json={"code": "X10", "percentOff": 10, "pageIds": [foreign.id]}, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"pageIds"}


def test_codes_are_unique_regardless_of_case(client, store, other_store, auth, user, db):
    assert client.post(url(store), json={"code": "Summer", "percentOff": 10}, headers=auth).status_code == 201
    response = client.post(url(store), json={"code": "SUMMER", "percentOff": 20}, headers=auth)
    assert response.status_code == 422 and "already exists" in response.json["error"]["fields"]["code"][0]
    add_member(db, other_store, user, role=Role.ADMIN)
    db.commit()
    assert client.post(url(other_store), json={"code": "summer", "percentOff": 10}, headers=auth).status_code == 201


def test_concurrent_creates_of_one_code_give_one_201_and_one_422(app, store, auth):
    coupons_url = url(store)  # built before the threads: they must not load through the test's session
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def create(code: str) -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        statuses.append(client.post(coupons_url, json={"code": code, "percentOff": 10}, headers=auth).status_code)

    threads = [threading.Thread(target=create, args=(code,)) for code in ("Race", "RACE")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 422]


def test_list_newest_first_with_cursor_and_active_filter(client, db, store, other_store, auth):
    for i in range(5):
        make_coupon(db, store, code=f"CODE{i}")
    make_coupon(db, other_store, code="FOREIGN")
    db.commit()
    first = client.get(url(store) + "?limit=3", headers=auth).json
    assert [c["code"] for c in first["data"]] == ["CODE4", "CODE3", "CODE2"] and first["nextCursor"]
    second = client.get(url(store) + f"?limit=3&cursor={first['nextCursor']}", headers=auth).json
    assert [c["code"] for c in second["data"]] == ["CODE1", "CODE0"] and second["nextCursor"] is None
    client.post(url(store, first["data"][0]["id"], "deactivate"), headers=auth)
    inactive = client.get(url(store) + "?active=false", headers=auth).json["data"]
    assert [c["code"] for c in inactive] == ["CODE4"]
    assert len(client.get(url(store) + "?active=true", headers=auth).json["data"]) == 4
    assert client.get(url(store) + "?cursor=!!", headers=auth).status_code == 422


def test_read_one(client, db, store, auth):
    coupon = make_coupon(db, store, code="READ")
    db.commit()
    body = client.get(url(store, coupon.id), headers=auth).json
    assert body["id"] == coupon.id and body["code"] == "READ" and set(body) == COUPON_KEYS


def test_patch_changes_only_what_is_sent(client, db, store, auth):
    page = make_page(db, store)
    coupon = make_coupon(db, store, code="SAVE", percent_off=10, max_redemptions=9, page_ids=[page.id])
    db.commit()
    body = client.patch(url(store, coupon.id), json={"code": "save", "maxRedemptions": None}, headers=auth).json
    assert (body["code"], body["maxRedemptions"], body["percentOff"], body["pageIds"]) == ("save", None, 10, [page.id])
    body = client.patch(url(store, coupon.id), json={"amountOff": 250, "currency": "USD", "pageIds": []}, headers=auth).json
    assert (body["percentOff"], body["amountOff"], body["currency"], body["pageIds"]) == (None, 250, "USD", [])
    assert client.patch(url(store, coupon.id), json={}, headers=auth).json == body


def test_patch_errors_use_json_names_and_change_nothing(client, db, store, auth):
    make_coupon(db, store, code="TAKEN")
    coupon = make_coupon(db, store, code="MINE", max_redemptions=5)
    db.commit()
    reserve_redemption(db, coupon.id)
    reserve_redemption(db, coupon.id)
    db.commit()
    response = client.patch(url(store, coupon.id), json={"code": "taken", "maxRedemptions": 1}, headers=auth)
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"code", "maxRedemptions"}
    assert client.get(url(store, coupon.id), headers=auth).json["code"] == "MINE"


def test_deactivate_and_activate(client, db, store, auth):
    coupon = make_coupon(db, store)
    db.commit()
    response = client.post(url(store, coupon.id, "deactivate"), headers=auth)
    assert response.status_code == 200 and response.json["active"] is False
    assert client.post(url(store, coupon.id, "activate"), headers=auth).json["active"] is True


def test_delete_is_an_empty_204(client, db, store, auth):
    coupon = make_coupon(db, store)
    db.commit()
    response = client.delete(url(store, coupon.id), headers=auth)
    assert response.status_code == 204 and response.data == b""
    assert client.get(url(store, coupon.id), headers=auth).status_code == 404
    assert client.delete(url(store, coupon.id), headers=auth).status_code == 404


def test_evaluate_a_valid_code(client, db, store, auth):
    page = make_page(db, store, amount=999)
    make_coupon(db, store, code="Save15", percent_off=15)
    db.commit()
    response = client.post(url(store, "evaluate"), json={"code": "save15", "pageId": page.id, "amount": 999}, headers=auth)
    assert response.status_code == 200
    body = response.json
    assert (body["valid"], body["discount"], body["total"], body["currency"]) == (True, 150, 849, "USD")
    assert body["coupon"]["code"] == "Save15" and "reason" not in body


@pytest.mark.parametrize("reason", ["not_found", "inactive", "expired", "exhausted", "not_applicable", "below_minimum"])
def test_evaluate_says_why_a_code_does_not_apply(client, db, store, auth, reason):
    page = make_page(db, store, amount=2500)
    other_page = make_page(db, store, title="Mug")
    terms = {
        "not_found": {},
        "inactive": {},
        "expired": {"expires_at": utcnow() + timedelta(hours=1)},
        "exhausted": {"max_redemptions": 1},
        "not_applicable": {"page_ids": [other_page.id]},
        "below_minimum": {"minimum_amount": 5000, "currency": "USD"},
    }[reason]
    coupon = make_coupon(db, store, code="CHECK", **terms)
    if reason == "inactive":
        coupon.active = False
    if reason == "exhausted":
        reserve_redemption(db, coupon.id)
    if reason == "expired":
        db.execute(sa.update(Coupon).where(Coupon.id == coupon.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    code = "NOSUCH" if reason == "not_found" else "check"
    body = client.post(url(store, "evaluate"), json={"code": code, "pageId": page.id, "amount": 2500}, headers=auth).json
    assert body == {"valid": False, "reason": reason, "discount": 0, "total": 2500, "currency": "USD"}


def test_evaluate_needs_a_page_of_the_store(client, db, store, other_store, auth):
    foreign = make_page(db, other_store)
    db.commit()
    body = {"code": "ANY", "pageId": foreign.id, "amount": 100}
    assert client.post(url(store, "evaluate"), json=body, headers=auth).status_code == 404
    body["pageId"] = 2**63
    assert client.post(url(store, "evaluate"), json=body, headers=auth).status_code == 422


def test_another_stores_coupons_are_404(client, db, store, other_store, auth):
    foreign = make_coupon(db, other_store, code="FOREIGN")
    db.commit()
    assert client.get(url(store, foreign.id), headers=auth).status_code == 404
    assert client.patch(url(store, foreign.id), json={"percentOff": 50}, headers=auth).status_code == 404
    assert client.post(url(store, foreign.id, "deactivate"), headers=auth).status_code == 404
    assert client.post(url(store, foreign.id, "activate"), headers=auth).status_code == 404
    assert client.delete(url(store, foreign.id), headers=auth).status_code == 404
    assert client.get(url(other_store), headers=auth).status_code == 404  # not a member there
    assert client.get(url(store, 2**63), headers=auth).status_code == 404
    assert client.get(f"/api/stores/{2**64}/coupons", headers=auth).status_code == 404
    assert db.get(Coupon, foreign.id).percent_off == 10 and db.get(Coupon, foreign.id).active


def test_viewers_read_and_evaluate_admins_write(client, app, db, store):
    viewer, admin = make_user(db), make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    add_member(db, store, admin, role=Role.ADMIN)
    page = make_page(db, store)
    coupon = make_coupon(db, store, code="ROLE")
    db.commit()
    as_viewer, as_admin = bearer(access_token_for(app, viewer)), bearer(access_token_for(app, admin))
    assert client.get(url(store), headers=as_viewer).status_code == 200
    assert client.get(url(store, coupon.id), headers=as_viewer).status_code == 200
    evaluate = {"code": "ROLE", "pageId": page.id, "amount": 100}
    assert client.post(url(store, "evaluate"), json=evaluate, headers=as_viewer).json["valid"] is True
    assert client.post(url(store), json={"code": "NEW", "percentOff": 5}, headers=as_viewer).status_code == 403
    assert client.patch(url(store, coupon.id), json={"percentOff": 5}, headers=as_viewer).status_code == 403
    assert client.post(url(store, coupon.id, "deactivate"), headers=as_viewer).status_code == 403
    assert client.delete(url(store, coupon.id), headers=as_viewer).status_code == 403
    assert client.post(url(store), json={"code": "NEW", "percentOff": 5}, headers=as_admin).status_code == 201
    assert client.patch(url(store, coupon.id), json={"percentOff": 5}, headers=as_admin).status_code == 200


def test_api_keys_act_as_admin_of_their_own_store_only(client, db, user, store, other_store):
    _, raw = create_api_key(db, store, name="Backend", created_by=user)
    foreign = make_coupon(db, other_store, code="FOREIGN")
    db.commit()
    key = bearer(raw)
    created = client.post(url(store), json={"code": "KEYED", "percentOff": 5}, headers=key)
    assert created.status_code == 201
    assert client.delete(url(store, created.json["id"]), headers=key).status_code == 204
    assert client.get(url(other_store), headers=key).status_code == 404
    assert client.get(url(other_store, foreign.id), headers=key).status_code == 404


def test_no_token_is_401(client, store):
    assert client.get(url(store)).status_code == 401
    assert client.post(url(store), json={"code": "NOPE", "percentOff": 5}).status_code == 401
