"""JSON API: a page's variants and options — list, add, rename/reprice, reorder, delete; the price
floor; roles, API keys, and ids of other pages and stores."""
import pytest

from checkie.catalog import pages, variants
from checkie.catalog.models import Variant, VariantOption
from checkie.stores.api_keys import create_api_key
from checkie.stores.models import Role
from tests.factories import add_member, make_store, make_user
from tests.http import access_token_for, bearer


@pytest.fixture
def page(db, store):
    page = pages.create_page(db, store, title="T-shirt", amount=1000)
    db.commit()
    return page


def vurl(store, page, variant_id=None, *rest) -> str:
    path = f"/api/stores/{store.id}/pages/{page.id}/variants"
    for part in (variant_id, *rest):
        if part is not None:
            path += f"/{part}"
    return path


def ourl(store, page, variant_id, option_id=None) -> str:
    return vurl(store, page, variant_id, "options", option_id)


def add(client, store, page, auth, name="Size", *deltas):
    variant = client.post(vurl(store, page), json={"name": name}, headers=auth).json
    options = [client.post(ourl(store, page, variant["id"]), json={"name": f"{name} {d}", "priceDelta": d}, headers=auth).json
               for d in deltas]
    return variant, options


def test_every_endpoint_needs_a_token(client, store, page):
    for method, path in [("get", vurl(store, page)), ("post", vurl(store, page)), ("patch", vurl(store, page, "reorder")),
                         ("get", vurl(store, page, 1)), ("patch", vurl(store, page, 1)), ("delete", vurl(store, page, 1)),
                         ("get", ourl(store, page, 1)), ("post", ourl(store, page, 1)), ("patch", ourl(store, page, 1, "reorder")),
                         ("get", ourl(store, page, 1, 1)), ("patch", ourl(store, page, 1, 1)), ("delete", ourl(store, page, 1, 1))]:
        assert getattr(client, method)(path, json={}).status_code == 401, (method, path)


def test_add_variants_and_options_and_read_them(client, store, page, auth):
    created = client.post(vurl(store, page), json={"name": "Size"}, headers=auth)
    assert created.status_code == 201 and created.json == {"id": created.json["id"], "name": "Size", "position": 0, "options": []}
    vid = created.json["id"]
    small = client.post(ourl(store, page, vid), json={"name": "Small", "priceDelta": -200}, headers=auth)
    assert small.status_code == 201 and small.json == {"id": small.json["id"], "name": "Small", "priceDelta": -200, "position": 0}
    plain = client.post(ourl(store, page, vid), json={"name": "Medium"}, headers=auth)
    assert plain.status_code == 201 and (plain.json["priceDelta"], plain.json["position"]) == (0, 1)
    listing = client.get(vurl(store, page), headers=auth).json
    assert listing["nextCursor"] is None
    assert [(v["name"], [(o["name"], o["priceDelta"]) for o in v["options"]]) for v in listing["data"]] == [
        ("Size", [("Small", -200), ("Medium", 0)])]
    assert client.get(vurl(store, page, vid), headers=auth).json["name"] == "Size"
    options = client.get(ourl(store, page, vid), headers=auth).json
    assert [o["name"] for o in options["data"]] == ["Small", "Medium"] and options["nextCursor"] is None
    assert client.get(ourl(store, page, vid, small.json["id"]), headers=auth).json["priceDelta"] == -200


def test_rename_reprice_and_delete(client, db, store, page, auth):
    variant, (small, large) = add(client, store, page, auth, "Size", 0, 500)
    renamed = client.patch(vurl(store, page, variant["id"]), json={"name": "Fit"}, headers=auth)
    assert renamed.status_code == 200 and renamed.json["name"] == "Fit"
    repriced = client.patch(ourl(store, page, variant["id"], small["id"]), json={"priceDelta": -100}, headers=auth)
    assert repriced.status_code == 200 and (repriced.json["name"], repriced.json["priceDelta"]) == ("Size 0", -100)
    assert client.patch(ourl(store, page, variant["id"], small["id"]), headers=auth).status_code == 200
    gone = client.delete(ourl(store, page, variant["id"], large["id"]), headers=auth)
    assert gone.status_code == 204 and gone.get_data() == b""
    assert client.delete(vurl(store, page, variant["id"]), headers=auth).status_code == 204
    assert db.query(Variant).count() == 0 and db.query(VariantOption).count() == 0


@pytest.mark.parametrize(
    "body, field",
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"name": "a\nb"}, "name"),
     ({"name": "S", "priceDelta": 1.5}, "priceDelta"), ({"name": "S", "priceDelta": "100"}, "priceDelta"),
     ({"name": "S", "priceDelta": 10**13}, "priceDelta"), ({"name": "S", "priceDelta": -1001}, "priceDelta"),
     ({"name": "S", "price": 1}, "price")],
)
def test_invalid_options_are_422_on_the_field(client, store, page, auth, body, field):
    variant, _ = add(client, store, page, auth)
    response = client.post(ourl(store, page, variant["id"]), json=body, headers=auth)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json


def test_price_floor_on_update_and_delete(client, store, page, auth):
    """Base 1000. Plan +500 offsets Discount -1500: removing or cheapening the Plan option is refused."""
    plan, (plus,) = add(client, store, page, auth, "Plan", 500)
    discount, (minus,) = add(client, store, page, auth, "Discount", -1000)
    assert client.patch(ourl(store, page, discount["id"], minus["id"]), json={"priceDelta": -1500}, headers=auth).status_code == 200
    for method, path, body in [("patch", ourl(store, page, plan["id"], plus["id"]), {"priceDelta": 499}),
                               ("delete", ourl(store, page, plan["id"], plus["id"]), None),
                               ("delete", vurl(store, page, plan["id"]), None)]:
        response = getattr(client, method)(path, json=body, headers=auth)
        assert response.status_code == 422 and response.json["error"]["code"] == "validation_error", (method, path)
    assert client.get(vurl(store, page), headers=auth).json["data"][0]["options"][0]["priceDelta"] == 500


def test_reorder_variants_and_options(client, store, page, auth):
    a, _ = add(client, store, page, auth, "A")
    b, (b1, b2) = add(client, store, page, auth, "B", 0, 100)
    response = client.patch(vurl(store, page, "reorder"), json={"ids": [b["id"], a["id"]]}, headers=auth)
    assert response.status_code == 200
    assert [(v["name"], v["position"]) for v in response.json["data"]] == [("B", 0), ("A", 1)]
    options = client.patch(ourl(store, page, b["id"], "reorder"), json={"ids": [b2["id"], b1["id"]]}, headers=auth)
    assert options.status_code == 200 and [o["priceDelta"] for o in options.json["data"]] == [100, 0]
    for body in ({"ids": [a["id"]]}, {"ids": [a["id"], a["id"]]}, {"ids": [a["id"], b["id"], 999]}, {"ids": ["x"]},
                 {"ids": [0]}, {}, {"ids": [2**63]}):
        refused = client.patch(vurl(store, page, "reorder"), json=body, headers=auth)
        assert refused.status_code == 422, body
        assert any(name.split(".")[0] == "ids" for name in refused.json["error"]["fields"]), body
    assert [v["name"] for v in client.get(vurl(store, page), headers=auth).json["data"]] == ["B", "A"]


def test_a_published_page_refuses_an_empty_variant(client, db, store, page, auth):
    pages.publish_page(db, page)
    db.commit()
    response = client.post(vurl(store, page), json={"name": "Colour"}, headers=auth)
    assert response.status_code == 422 and "Unpublish" in response.json["error"]["fields"]["name"][0]


def test_viewers_read_admins_and_api_keys_write(client, app, db, user, store, page, auth):
    variant, (option,) = add(client, store, page, auth, "Size", 0)
    viewer, admin = make_user(db), make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    add_member(db, store, admin, role=Role.ADMIN)
    _, raw_key = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    as_viewer = bearer(access_token_for(app, viewer))
    for path in (vurl(store, page), vurl(store, page, variant["id"]), ourl(store, page, variant["id"]),
                 ourl(store, page, variant["id"], option["id"])):
        assert client.get(path, headers=as_viewer).status_code == 200, path
    writes = [("post", vurl(store, page), {"name": "X"}), ("patch", vurl(store, page, variant["id"]), {"name": "X"}),
              ("patch", vurl(store, page, "reorder"), {"ids": [variant["id"]]}),
              ("post", ourl(store, page, variant["id"]), {"name": "X", "priceDelta": 0}),
              ("patch", ourl(store, page, variant["id"], option["id"]), {"name": "X"}),
              ("patch", ourl(store, page, variant["id"], "reorder"), {"ids": [option["id"]]}),
              ("delete", ourl(store, page, variant["id"], option["id"]), None), ("delete", vurl(store, page, variant["id"]), None)]
    for method, path, body in writes:
        response = getattr(client, method)(path, json=body, headers=as_viewer)
        assert response.status_code == 403, (method, path)
    for credential in (access_token_for(app, admin), raw_key):
        assert client.post(vurl(store, page), json={"name": "Colour"}, headers=bearer(credential)).status_code == 201


def test_ids_of_other_pages_and_stores_are_404(client, db, user, store, page, auth):
    other_store = make_store(db, name="Other", slug="other")
    theirs = pages.create_page(db, other_store, title="Theirs", amount=1000)
    their_variant = variants.add_variant(db, theirs, name="Their size")
    their_option = variants.add_option(db, their_variant, name="Theirs", price_delta=0)
    sibling = pages.create_page(db, store, title="Sibling", amount=1000)
    sibling_variant = variants.add_variant(db, sibling, name="Sibling size")
    _, raw_key = create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    mine, (my_option,) = add(client, store, page, auth, "Size", 0)
    attempts = [
        # another store's page through my store id, and their store id directly
        ("get", f"/api/stores/{store.id}/pages/{theirs.id}/variants", None),
        ("post", f"/api/stores/{store.id}/pages/{theirs.id}/variants", {"name": "X"}),
        ("get", f"/api/stores/{other_store.id}/pages/{theirs.id}/variants", None),
        # another page's variant through my page
        ("get", vurl(store, page, their_variant.id), None), ("patch", vurl(store, page, sibling_variant.id), {"name": "X"}),
        ("delete", vurl(store, page, sibling_variant.id), None),
        ("post", ourl(store, page, their_variant.id), {"name": "X", "priceDelta": 0}),
        ("get", ourl(store, page, sibling_variant.id), None),
        # another variant's option through my variant
        ("get", ourl(store, page, mine["id"], their_option.id), None),
        ("patch", ourl(store, page, mine["id"], their_option.id), {"priceDelta": 5}),
        ("delete", ourl(store, page, mine["id"], their_option.id), None),
        ("get", ourl(store, page, mine["id"], 2**63), None), ("get", vurl(store, page, 10**25), None),
    ]
    for headers in (auth, bearer(raw_key)):
        for method, path, body in attempts:
            response = getattr(client, method)(path, json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.status_code)
    db.expire_all()
    assert (their_variant.name, their_option.price_delta, sibling_variant.name) == ("Their size", 0, "Sibling size")
    assert my_option["id"] != their_option.id


def test_variant_and_option_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    base = "/api/stores/{store_id}/pages/{page_id}/variants"
    assert set(paths[base]) >= {"get", "post"} and "patch" in paths[base + "/reorder"]
    assert set(paths[base + "/{variant_id}"]) >= {"get", "patch", "delete"}
    assert set(paths[base + "/{variant_id}/options"]) >= {"get", "post"}
    assert "patch" in paths[base + "/{variant_id}/options/reorder"]
    assert set(paths[base + "/{variant_id}/options/{option_id}"]) >= {"get", "patch", "delete"}
