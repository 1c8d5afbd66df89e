"""JSON API: /api/stores/<id>/pages — list, create, read, update, delete, publish, archive,
unpublish, duplicate; roles, API keys and other stores' ids."""
import pytest
import sqlalchemy as sa

from checkie.catalog import pages, variants
from checkie.catalog.models import CustomField, FieldType, Page, PageStats, PageStatus
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_page, make_store, make_user
from tests.http import access_token_for, bearer

PAGE_KEYS = {"id", "slug", "title", "description", "status", "pricing", "allowCoupons", "successUrl", "variants",
             "customFields", "stats", "url", "createdAt", "updatedAt", "publishedAt"}
BODY = {"title": "Summer T-Shirt", "description": "Soft cotton", "pricing": {"type": "one_time", "amount": 2500, "currency": "USD"},
        "allowCoupons": True}


def url(store, page_id=None, action=None) -> str:
    path = f"/api/stores/{store.id}/pages"
    if page_id is not None:
        path += f"/{page_id}"
    return path + (f"/{action}" if action else "")




def test_every_endpoint_needs_a_token(client, db, store):
    page = make_page(db, store)
    db.commit()
    for method, path in [("get", url(store)), ("post", url(store)), ("get", url(store, page.id)),
                         ("patch", url(store, page.id)), ("delete", url(store, page.id))] + [
            ("post", url(store, page.id, action)) for action in ("publish", "archive", "unpublish", "duplicate")]:
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized", (method, path)


def test_create_answers_the_whole_page(client, db, store, auth):
    response = client.post(url(store), json={**BODY, "successUrl": "https://shop.example/thanks"}, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert set(body) == PAGE_KEYS
    assert (body["slug"], body["title"], body["description"], body["status"], body["allowCoupons"]) == (
        "summer-t-shirt", "Summer T-Shirt", "Soft cotton", "draft", True)
    assert body["pricing"] == {"type": "one_time", "amount": 2500, "currency": "USD", "interval": None,
                               "intervalCount": 1, "trialDays": 0}
    assert body["stats"] == {"views": 0, "sessions": 0, "conversions": 0, "revenue": 0}
    assert (body["variants"], body["customFields"], body["publishedAt"]) == ([], [], None)
    assert body["url"] == "http://localhost/c/acme/summer-t-shirt"
    assert body["successUrl"] == "https://shop.example/thanks"
    assert db.get(PageStats, body["id"]) is not None


def test_create_defaults_currency_to_the_store_and_accepts_subscriptions(client, store, auth):
    body = {"title": "Club", "pricing": {"type": "subscription", "amount": 900, "interval": "month",
                                         "intervalCount": 3, "trialDays": 14}, "slug": "club"}
    response = client.post(url(store), json=body, headers=auth)
    assert response.status_code == 201
    assert response.json["pricing"] == {"type": "subscription", "amount": 900, "currency": "USD", "interval": "month",
                                        "intervalCount": 3, "trialDays": 14}
    assert (response.json["slug"], response.json["description"], response.json["allowCoupons"]) == ("club", "", False)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"pricing": None}, "pricing"),
        ({"pricing": {"type": "one_time"}}, "pricing.amount"),
        ({"pricing": {"type": "one_time", "amount": -1}}, "pricing.amount"),
        ({"pricing": {"type": "one_time", "amount": 10.5}}, "pricing.amount"),
        ({"pricing": {"type": "one_time", "amount": "100"}}, "pricing.amount"),
        ({"pricing": {"type": "one_time", "amount": True}}, "pricing.amount"),
        ({"pricing": {"type": "one_time", "amount": 10**30}}, "pricing.amount"),
        ({"pricing": {"type": "one_time", "amount": 1, "currency": "XXX"}}, "pricing.currency"),
        ({"pricing": {"type": "weekly", "amount": 1}}, "pricing.type"),
        ({"pricing": {"type": "one_time", "amount": 1, "trialDays": 3}}, "pricing.trialDays"),
        ({"pricing": {"type": "subscription", "amount": 1, "interval": "month", "intervalCount": 24}}, "pricing.intervalCount"),
        ({"pricing": {"type": "one_time", "amount": 1, "extra": 1}}, "pricing.extra"),
        ({"successUrl": "javascript:alert(1)"}, "successUrl"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"allowCoupons": "yes"}, "allowCoupons"),
        ({"allowCoupons": 1}, "allowCoupons"),
        ({"description": "bad \u0000 byte"}, "description"),
        ({"status": "published"}, "status"),
    ],
)
def test_invalid_bodies_are_422_on_the_field(client, db, store, auth, change, field):
    response = client.post(url(store), json={**BODY, **change}, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error" and field in response.json["error"]["fields"]
    assert db.scalar(sa.select(sa.func.count(Page.id))) == 0


def test_a_taken_slug_is_422(client, db, store, auth):
    make_page(db, store, slug="tee")
    db.commit()
    response = client.post(url(store), json={**BODY, "slug": "tee"}, headers=auth)
    assert response.status_code == 422 and "already uses" in response.json["error"]["fields"]["slug"][0]


def test_jpy_and_bhd_amounts_are_minor_units(client, store, auth):
    for currency, amount in (("JPY", 1200), ("BHD", 12345)):
        body = {**BODY, "pricing": {"type": "one_time", "amount": amount, "currency": currency}}
        response = client.post(url(store), json=body, headers=auth)
        assert response.status_code == 201 and response.json["pricing"]["currency"] == currency


def test_list_filters_searches_and_paginates(client, db, store, auth):
    for title in ("Blue hoodie", "Red hoodie", "Mug"):
        make_page(db, store, title=title)
        db.commit()
    pages.publish_page(db, db.scalar(sa.select(Page).where(Page.title == "Mug")))
    make_page(db, make_store(db, name="Other", slug="other"), title="Blue hoodie")
    db.commit()
    everything = client.get(url(store), headers=auth).json
    assert [p["title"] for p in everything["data"]] == ["Mug", "Red hoodie", "Blue hoodie"] and everything["nextCursor"] is None
    assert set(everything["data"][0]) == PAGE_KEYS
    first = client.get(url(store) + "?limit=2", headers=auth).json
    rest = client.get(url(store), query_string={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json
    assert [p["title"] for p in first["data"] + rest["data"]] == ["Mug", "Red hoodie", "Blue hoodie"]
    assert [p["title"] for p in client.get(url(store) + "?status=published", headers=auth).json["data"]] == ["Mug"]
    assert [p["title"] for p in client.get(url(store) + "?search=HOOD&status=draft", headers=auth).json["data"]] == [
        "Red hoodie", "Blue hoodie"]
    for query in ("status=gone", "limit=0", "cursor=%25%25", "search=" + "x" * 201):
        response = client.get(url(store) + "?" + query, headers=auth)
        assert response.status_code == 422, query
    assert client.get(url(store), query_string={"search": "a\x00b"}, headers=auth).status_code == 422


def test_read_shows_variants_fields_and_stats(client, db, store, auth):
    page = make_page(db, store, currency="EUR")
    db.commit()
    size = variants.add_variant(db, page, name="Size")
    small = variants.add_option(db, size, name="Small", price_delta=-500)
    page.custom_fields.append(CustomField(key="team", label="Team", type=FieldType.SELECT, options=["A"], position=0))
    page.stats.views, page.stats.revenue = 7, 12345
    db.commit()
    body = client.get(url(store, page.id), headers=auth).json
    assert body["variants"] == [{"id": size.id, "name": "Size", "position": 0,
                                 "options": [{"id": small.id, "name": "Small", "priceDelta": -500, "position": 0}]}]
    assert [(f["key"], f["type"], f["options"]) for f in body["customFields"]] == [("team", "select", ["A"])]
    assert body["stats"] == {"views": 7, "sessions": 0, "conversions": 0, "revenue": 12345}


def test_patch_changes_only_what_is_sent(client, db, store, auth):
    page = make_page(db, store, success_url="https://a.example")
    db.commit()
    response = client.patch(url(store, page.id), json={"title": "New", "pricing": {"amount": 990}}, headers=auth)
    assert response.status_code == 200
    body = response.json
    assert (body["title"], body["pricing"]["amount"], body["pricing"]["currency"], body["successUrl"], body["slug"]) == (
        "New", 990, "USD", "https://a.example", "t-shirt")
    cleared = client.patch(url(store, page.id), json={"successUrl": None, "slug": "new-slug"}, headers=auth).json
    assert (cleared["successUrl"], cleared["slug"], cleared["url"]) == (None, "new-slug", "http://localhost/c/acme/new-slug")
    assert client.patch(url(store, page.id), headers=auth).status_code == 200


def test_patch_refuses_breaking_the_price_floor_or_a_published_page(client, db, store, auth):
    page = make_page(db, store)
    db.commit()
    variants.add_option(db, variants.add_variant(db, page, name="Size"), name="S", price_delta=-2000)
    pages.publish_page(db, page)
    db.commit()
    floor = client.patch(url(store, page.id), json={"pricing": {"amount": 1999}}, headers=auth)
    assert floor.status_code == 422 and "pricing.amount" in floor.json["error"]["fields"]
    free = client.patch(url(store, page.id), json={"pricing": {"amount": 2000}}, headers=auth)
    assert free.status_code == 422 and "price above zero" in free.json["error"]["fields"]["pricing.amount"][0]
    db.expire_all()
    assert page.amount == 2500


def test_publish_answers_the_page_or_every_reason(client, db, store, auth):
    page = make_page(db, store, amount=0)
    db.commit()
    variants.add_variant(db, page, name="Size")
    db.commit()
    refused = client.post(url(store, page.id, "publish"), headers=auth)
    assert refused.status_code == 422
    assert set(refused.json["error"]["fields"]) == {"pricing.amount", "variants"}
    assert "cannot be published" in refused.json["error"]["message"]
    client.patch(url(store, page.id), json={"pricing": {"amount": 500}}, headers=auth)
    size_id = client.get(url(store, page.id), headers=auth).json["variants"][0]["id"]
    client.delete(f"{url(store, page.id)}/variants/{size_id}", headers=auth)
    published = client.post(url(store, page.id, "publish"), headers=auth)
    assert published.status_code == 200 and published.json["status"] == "published" and published.json["publishedAt"]
    again = client.post(url(store, page.id, "publish"), headers=auth)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"


def test_archive_and_unpublish(client, db, store, auth):
    page = make_page(db, store)
    db.commit()
    assert client.post(url(store, page.id, "unpublish"), headers=auth).status_code == 409
    archived = client.post(url(store, page.id, "archive"), headers=auth)
    assert archived.status_code == 200 and archived.json["status"] == "archived"
    assert client.post(url(store, page.id, "archive"), headers=auth).status_code == 409
    restored = client.post(url(store, page.id, "unpublish"), headers=auth)
    assert restored.status_code == 200 and restored.json["status"] == "draft"


def test_delete_a_draft_and_409_for_anything_else(client, db, store, auth):
    draft, published = make_page(db, store), make_page(db, store, title="Live")
    db.commit()
    pages.publish_page(db, published)
    db.commit()
    response = client.delete(url(store, draft.id), headers=auth)
    assert response.status_code == 204 and response.get_data() == b""
    assert client.get(url(store, draft.id), headers=auth).status_code == 404
    refused = client.delete(url(store, published.id), headers=auth)
    assert refused.status_code == 409 and "archive it instead" in refused.json["error"]["message"]
    db.execute(sa.update(PageStats).where(PageStats.page_id == published.id).values(sessions=1))
    pages.unpublish_page(db, published)
    db.commit()
    assert client.delete(url(store, published.id), headers=auth).status_code == 409


def test_duplicate_answers_the_new_draft(client, db, store, auth):
    page = make_page(db, store, title="Hoodie")
    db.commit()
    variants.add_option(db, variants.add_variant(db, page, name="Size"), name="L", price_delta=300)
    pages.publish_page(db, page)
    db.commit()
    response = client.post(url(store, page.id, "duplicate"), headers=auth)
    assert response.status_code == 201
    copy = response.json
    assert (copy["title"], copy["slug"], copy["status"]) == ("Hoodie (copy)", "hoodie-copy", "draft")
    assert [(v["name"], [(o["name"], o["priceDelta"]) for o in v["options"]]) for v in copy["variants"]] == [("Size", [("L", 300)])]
    assert copy["id"] != page.id


def test_viewers_read_admins_and_api_keys_write(client, app, db, user, store):
    page = make_page(db, store)
    db.commit()
    viewer, admin = make_user(db), make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    add_member(db, store, admin, role=Role.ADMIN)
    _, raw_key = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    as_viewer = bearer(access_token_for(app, viewer))
    assert client.get(url(store), headers=as_viewer).status_code == 200
    assert client.get(url(store, page.id), headers=as_viewer).status_code == 200
    for method, path, body in [("post", url(store), BODY), ("patch", url(store, page.id), {"title": "X"}),
                               ("delete", url(store, page.id), None), ("post", url(store, page.id, "publish"), None),
                               ("post", url(store, page.id, "duplicate"), None)]:
        response = getattr(client, method)(path, json=body, headers=as_viewer)
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden", (method, path)
    for credential in (access_token_for(app, admin), raw_key):
        created = client.post(url(store), json=BODY, headers=bearer(credential))
        assert created.status_code == 201
        assert client.post(url(store, created.json["id"], "publish"), headers=bearer(credential)).status_code == 200


def test_another_stores_pages_are_404(client, app, db, user, store, auth):
    other = make_store(db, name="Other", slug="other")
    theirs = make_page(db, other, title="Theirs")
    mine = make_page(db, store, title="Mine")
    db.commit()
    _, raw_key = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    for headers in (auth, bearer(raw_key)):
        for method, path, body in [
            ("get", url(store, theirs.id), None), ("patch", url(store, theirs.id), {"title": "Hijacked"}),
            ("delete", url(store, theirs.id), None), ("post", url(store, theirs.id, "publish"), None),
            ("post", url(store, theirs.id, "archive"), None), ("post", url(store, theirs.id, "duplicate"), None),
            ("get", url(other), None), ("post", url(other), BODY), ("get", url(other, theirs.id), None),
            ("get", url(store, 2**63), None), ("get", url(store, 10**30), None),
        ]:
            response = getattr(client, method)(path, json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.status_code)
    db.expire_all()
    assert (theirs.title, theirs.status) == ("Theirs", PageStatus.DRAFT)
    assert db.scalar(sa.select(sa.func.count(Page.id))) == 2 and mine.store_id == store.id


def test_pages_are_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    prefix = "/api/stores/{store_id}/pages"
    assert set(spec["paths"][prefix]) >= {"get", "post"}
    assert set(spec["paths"][prefix + "/{page_id}"]) >= {"get", "patch", "delete"}
    assert "409" in spec["paths"][prefix + "/{page_id}"]["delete"]["responses"]
    for action in ("publish", "archive", "unpublish", "duplicate"):
        assert "post" in spec["paths"][f"{prefix}/{{page_id}}/{action}"]
    assert "422" in spec["paths"][prefix + "/{page_id}/publish"]["post"]["responses"]
