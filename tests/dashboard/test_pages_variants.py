"""Dashboard: variants and options edited inline on the page editor. htmx gets the `variants`
block (and `HX-Trigger: page-changed` so the status panel refreshes); without JavaScript the
same URLs answer a 303 to the editor; invalid input is a 422 with the error beside the field."""
import re

import pytest

from checkie.catalog import pages, variants
from checkie.catalog.models import PageStatus
from checkie.stores.models import Role
from tests.factories import add_member, make_store, make_user
from tests.http import HX, csrf_token, login_as, post_form


@pytest.fixture
def page(db, store, client, user):
    login_as(client, user)
    page = pages.create_page(db, store, title="T-shirt", amount=1000)
    db.commit()
    return page


def editor(store, page) -> str:
    return f"/dashboard/stores/{store.id}/pages/{page.id}"


def vurl(store, page, variant=None, *rest) -> str:
    path = editor(store, page) + "/variants"
    for part in ((variant.id if variant is not None else None), *rest):
        if part is not None:
            path += f"/{part}"
    return path


def post(client, store, page, url, data=None, *, htmx=True):
    return post_form(client, url, data or {}, page=editor(store, page), headers=HX if htmx else {})


def assert_fragment(response, status=200) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert "<html" not in html and html.lstrip().startswith('<div id="variants">'), html[:200]
    assert "HX-Request" in response.headers["Vary"]
    return html


def shape(db, page) -> list:
    db.expire_all()
    return [(v.name, [(o.name, o.price_delta) for o in v.options]) for v in page.variants]


def test_add_a_variant_over_htmx_answers_the_block_and_a_trigger(client, db, store, page):
    response = post(client, store, page, vurl(store, page), {"new-variant-name": "Size"})
    html = assert_fragment(response)
    assert response.headers["HX-Trigger"] == "page-changed"
    assert "Added the variant “Size”" in html and "No options yet" in html
    assert shape(db, page) == [("Size", [])]


def test_add_a_variant_without_javascript_redirects_to_the_block(client, db, store, page):
    response = post(client, store, page, vurl(store, page), {"new-variant-name": "Size"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(editor(store, page) + "#variants")
    assert "Added the variant" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_invalid_variant_name_is_a_422_beside_the_field(client, db, store, page):
    html = assert_fragment(post(client, store, page, vurl(store, page), {"new-variant-name": ""}), 422)
    assert re.search(r'<small id="new-variant-name-error" class="field-error">[^<]+</small>', html)
    assert 'aria-invalid="true"' in html
    plain = post(client, store, page, vurl(store, page), {"new-variant-name": "x" * 101}, htmx=False)
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True)
    assert shape(db, page) == []


def test_add_options_in_major_units(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    db.commit()
    for name, typed in (("Small", "-2.50"), ("Large", "3")):
        response = post(client, store, page, vurl(store, page, size, "options"),
                        {f"v{size.id}-new-name": name, f"v{size.id}-new-price_delta": typed})
        html = assert_fragment(response)
    assert "-$2.50" in html and "+$3.00" in html and "$7.50" in html
    assert shape(db, page) == [("Size", [("Small", -250), ("Large", 300)])]


def test_an_empty_price_change_means_the_page_price(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    db.commit()
    response = post(client, store, page, vurl(store, page, size, "options"),
                    {f"v{size.id}-new-name": "Regular", f"v{size.id}-new-price_delta": "  "})
    assert "leave empty for no change" in assert_fragment(response)
    assert shape(db, page) == [("Size", [("Regular", 0)])]


@pytest.mark.parametrize(
    "currency, typed, message",
    [("JPY", "2.5", "JPY has no minor unit"), ("BHD", "0.0005", "at most 3 decimal places"), ("USD", "two", "Enter an amount")],
)
def test_option_prices_follow_the_page_currency(client, db, store, page, currency, typed, message):
    pages.update_page(db, page, currency=currency)
    size = variants.add_variant(db, page, name="Size")
    db.commit()
    response = post(client, store, page, vurl(store, page, size, "options"),
                    {f"v{size.id}-new-name": "Odd", f"v{size.id}-new-price_delta": typed})
    html = assert_fragment(response, 422)
    error = re.search(rf'<small id="v{size.id}-new-price_delta-error" class="field-error">([^<]*)</small>', html)
    assert error and message in error.group(1)
    assert shape(db, page) == [("Size", [])]


def test_an_option_below_the_price_floor_is_refused_beside_the_price(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    db.commit()
    response = post(client, store, page, vurl(store, page, size, "options"),
                    {f"v{size.id}-new-name": "Too cheap", f"v{size.id}-new-price_delta": "-10.01"})
    html = assert_fragment(response, 422)
    assert re.search(rf'id="v{size.id}-new-price_delta-error" class="field-error">[^<]*less than nothing', html)
    assert shape(db, page) == [("Size", [])]


def test_edit_an_option_inline(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    small = variants.add_option(db, size, name="Small", price_delta=0)
    db.commit()
    opened = client.get(editor(store, page), query_string={"edit": f"o{small.id}", "block": "variants"}, headers=HX)
    html = assert_fragment(opened)
    assert f'id="o{small.id}-name"' in html and 'value="0.00"' in html and "Save option" in html
    assert "Save option" in client.get(editor(store, page), query_string={"edit": f"o{small.id}"}).get_data(as_text=True)
    url = vurl(store, page, size, "options", small.id)
    assert_fragment(post(client, store, page, url, {f"o{small.id}-name": "Petite", f"o{small.id}-price_delta": "-1.25"}))
    assert shape(db, page) == [("Size", [("Petite", -125)])]
    refused = assert_fragment(post(client, store, page, url, {f"o{small.id}-name": "", f"o{small.id}-price_delta": "-99"}), 422)
    assert f'id="o{small.id}-name-error"' in refused and f'id="o{small.id}-price_delta-error"' not in refused
    floor = assert_fragment(post(client, store, page, url, {f"o{small.id}-name": "Petite", f"o{small.id}-price_delta": "-99"}), 422)
    assert f'id="o{small.id}-price_delta-error"' in floor and "Save option" in floor
    assert shape(db, page) == [("Size", [("Petite", -125)])]


def test_rename_a_variant_inline(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    db.commit()
    opened = assert_fragment(client.get(editor(store, page), query_string={"edit": f"v{size.id}", "block": "variants"}, headers=HX))
    assert f'id="v{size.id}-name"' in opened and "Save name" in opened
    assert_fragment(post(client, store, page, vurl(store, page, size), {f"v{size.id}-name": "Fit"}))
    refused = assert_fragment(post(client, store, page, vurl(store, page, size), {f"v{size.id}-name": " "}), 422)
    assert f'id="v{size.id}-name-error"' in refused
    assert shape(db, page) == [("Fit", [])]


def test_move_variants_and_options_up_and_down(client, db, store, page):
    a, b = variants.add_variant(db, page, name="A"), variants.add_variant(db, page, name="B")
    one = variants.add_option(db, b, name="One", price_delta=0)
    variants.add_option(db, b, name="Two", price_delta=0)
    db.commit()
    assert_fragment(post(client, store, page, vurl(store, page, b, "move"), {"direction": "up"}))
    assert_fragment(post(client, store, page, vurl(store, page, b, "options", one.id, "move"), {"direction": "down"}))
    assert shape(db, page) == [("B", [("Two", 0), ("One", 0)]), ("A", [])]
    plain = post(client, store, page, vurl(store, page, a, "move"), {"direction": "up"}, htmx=False)
    assert plain.status_code == 303
    assert [v for v, _ in shape(db, page)] == ["A", "B"]
    assert_fragment(post(client, store, page, vurl(store, page, a, "move"), {"direction": "sideways"}), 422)


def test_delete_options_and_variants_with_the_floor_kept(client, db, store, page):
    plan = variants.add_variant(db, page, name="Plan")
    plus = variants.add_option(db, plan, name="Plus", price_delta=500)
    discount = variants.add_variant(db, page, name="Discount")
    variants.add_option(db, discount, name="Big", price_delta=-1500)
    db.commit()
    refused = assert_fragment(post(client, store, page, vurl(store, page, plan, "options", plus.id, "delete")), 422)
    assert 'role="alert"' in refused and "less than nothing" in refused
    assert_fragment(post(client, store, page, vurl(store, page, plan, "delete")), 422)
    assert_fragment(post(client, store, page, vurl(store, page, discount, "delete")))
    assert_fragment(post(client, store, page, vurl(store, page, plan, "options", plus.id, "delete")))
    assert shape(db, page) == [("Plan", [])]


def test_a_published_page_hides_add_variant_and_keeps_last_options(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    only = variants.add_option(db, size, name="One size", price_delta=0)
    pages.publish_page(db, page)
    db.commit()
    html = client.get(editor(store, page)).get_data(as_text=True)
    assert "unpublish the page first" in html and 'name="new-variant-name"' not in html
    refused = assert_fragment(post(client, store, page, vurl(store, page, size, "options", only.id, "delete")), 422)
    assert "at least one option" in refused
    assert_fragment(post(client, store, page, vurl(store, page), {"new-variant-name": "Colour"}), 422)
    db.expire_all()
    assert page.status is PageStatus.PUBLISHED and shape(db, page) == [("Size", [("One size", 0)])]


def test_viewers_see_variants_without_controls_and_cannot_post(client, db, store, page):
    size = variants.add_variant(db, page, name="Size")
    small = variants.add_option(db, size, name="Small", price_delta=-100)
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    html = client.get(editor(store, page), query_string={"block": "variants", "edit": f"o{small.id}"}, headers=HX).get_data(as_text=True)
    assert "Small" in html and "-$1.00" in html and "<form" not in html and "Add variant" not in html
    token = csrf_token(client, editor(store, page))
    for url in (vurl(store, page), vurl(store, page, size), vurl(store, page, size, "move"), vurl(store, page, size, "delete"),
                vurl(store, page, size, "options"), vurl(store, page, size, "options", small.id),
                vurl(store, page, size, "options", small.id, "move"), vurl(store, page, size, "options", small.id, "delete")):
        assert client.post(url, data={"csrf_token": token, "direction": "up"}, headers=HX).status_code == 403, url
    assert shape(db, page) == [("Size", [("Small", -100)])]


def test_other_pages_and_stores_ids_are_404(client, db, store, page):
    theirs = pages.create_page(db, make_store(db, name="Other", slug="other"), title="Theirs", amount=1000)
    their_variant = variants.add_variant(db, theirs, name="Their size")
    their_option = variants.add_option(db, their_variant, name="Theirs", price_delta=0)
    mine = variants.add_variant(db, page, name="Size")
    db.commit()
    token = csrf_token(client, editor(store, page))
    for url in (vurl(store, page, their_variant), vurl(store, page, their_variant, "delete"),
                vurl(store, page, their_variant, "options"), vurl(store, page, mine, "options", their_option.id),
                vurl(store, page, mine, "options", their_option.id, "delete"), vurl(store, page, mine, "options", 2**63),
                f"/dashboard/stores/{store.id}/pages/{theirs.id}/variants"):
        response = client.post(url, data={"csrf_token": token, "direction": "up", "new-variant-name": "X"}, headers=HX)
        assert response.status_code == 404, url
    assert shape(db, theirs) == [("Their size", [("Theirs", 0)])]
