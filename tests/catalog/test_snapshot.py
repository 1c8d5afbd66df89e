"""catalog.snapshot: the cached shopper view of a page follows every change a merchant makes,
through the same services the dashboard and the API call, once the change is committed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.catalog import fields, pages, snapshot, variants
from checkie.catalog.models import FieldType, Page, PageStatus
from checkie.stores import services as stores
from tests.factories import make_field, make_page


def _version(db, page_id: int) -> int:
    return db.scalar(sa.select(Page.version).where(Page.id == page_id))


def _view(db, page_id: int) -> snapshot.PageView:
    db.commit()
    return snapshot.current_page(db, page_id)


def _page(db, store, *, publish: bool):
    """A T-shirt in sizes S and L with one optional text field, `notes`."""
    page = make_page(db, store, variants={"Size": {"S": 0, "L": 500}}, publish=publish)
    make_field(db, page, label="Notes", key="notes")
    return page


@pytest.fixture
def page(db, store):
    page = _page(db, store, publish=True)
    db.commit()
    return page


def test_a_view_holds_what_shoppers_see_and_is_reused_until_something_changes(db, store, page):
    first = _view(db, page.id)
    assert (first.title, first.store.name, first.store.slug, first.status) == ("T-shirt", store.name, store.slug,
                                                                                PageStatus.PUBLISHED)
    assert [(v.name, [(o.name, o.price_delta) for o in v.options]) for v in first.variants] == [
        ("Size", [("S", 0), ("L", 500)])]
    assert [(f.key, f.type, f.required) for f in first.custom_fields] == [("notes", FieldType.TEXT, False)]
    assert _view(db, page.id) is first
    db.expire_all()
    page.stats  # loading a relationship is not a change  # noqa: B018
    assert _view(db, page.id) is first


@pytest.mark.parametrize("change, expected", [
    (lambda db, page: pages.update_page(db, page, title="Hoodie"), lambda v: v.title == "Hoodie"),
    (lambda db, page: variants.add_variant(db, page, name="Colour"),
     lambda v: [x.name for x in v.variants] == ["Size", "Colour"]),
    (lambda db, page: variants.rename_variant(db, page.variants[0], name="Fit"), lambda v: v.variants[0].name == "Fit"),
    (lambda db, page: variants.add_option(db, page.variants[0], name="XL", price_delta=900),
     lambda v: [o.name for o in v.variants[0].options] == ["S", "L", "XL"]),
    (lambda db, page: variants.update_option(db, page.variants[0].options[1], price_delta=700),
     lambda v: v.variants[0].options[1].price_delta == 700),
    (lambda db, page: variants.delete_option(db, page.variants[0].options[1]),
     lambda v: [o.name for o in v.variants[0].options] == ["S"]),
    (lambda db, page: variants.reorder_options(db, page.variants[0], [o.id for o in reversed(page.variants[0].options)]),
     lambda v: [o.name for o in v.variants[0].options] == ["L", "S"]),
    (lambda db, page: fields.create_field(db, page, label="Company", type="text", required=True),
     lambda v: [f.key for f in v.custom_fields] == ["notes", "company"]),
    (lambda db, page: fields.update_field(db, page.custom_fields[0], label="Anything else?", required=True),
     lambda v: (v.custom_fields[0].label, v.custom_fields[0].required) == ("Anything else?", True)),
    (lambda db, page: pages.publish_page(db, page), lambda v: v.status is PageStatus.PUBLISHED),
    (lambda db, page: stores.update_store(db, page.store, name="Paper Crane", slug="paper-crane"),
     lambda v: (v.store.name, v.store.slug) == ("Paper Crane", "paper-crane")),
], ids=["page", "add-variant", "rename-variant", "add-option", "option-price", "delete-option", "reorder-options",
        "add-field", "update-field", "publish", "store-name-and-slug"])
def test_every_change_to_what_shoppers_see_bumps_the_version(db, store, change, expected):
    page = _page(db, store, publish=False)  # a draft: variants can be added
    before = _view(db, page.id)
    change(db, page)
    db.commit()
    assert _version(db, page.id) > before.version
    after = snapshot.current_page(db, page.id)
    assert after is not before and expected(after)


def test_a_rolled_back_change_leaves_the_cached_view_current(db, page):
    before = _view(db, page.id)
    pages.update_page(db, page, title="Never saved")
    db.flush()
    db.rollback()
    assert _version(db, page.id) == before.version
    assert snapshot.current_page(db, page.id) is before


def test_published_page_finds_only_what_is_on_sale(db, store, page):
    assert snapshot.published_page(db, store.slug, page.slug).id == page.id
    assert snapshot.published_page(db, store.slug, "no-such-page") is None
    pages.archive_page(db, page)
    db.commit()
    assert snapshot.published_page(db, store.slug, page.slug) is None


def test_a_view_of_a_page_that_does_not_exist_is_an_error(db):
    with pytest.raises(LookupError):
        snapshot.current_page(db, 2**40)
