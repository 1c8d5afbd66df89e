"""Variants and options service: add, rename, reorder, delete, price deltas and the price floor
(the page amount plus each variant's cheapest option never goes below zero)."""
import pytest
import sqlalchemy as sa

from checkie.catalog import pages, variants
from checkie.catalog.models import PageStatus, Variant, VariantOption
from checkie.errors import NotFound, ValidationFailed
from tests.factories import make_store


@pytest.fixture
def page(db, store):
    return pages.create_page(db, store, title="T-shirt", amount=1000)


def shape(page) -> list:
    return [(v.name, v.position, [(o.name, o.price_delta, o.position) for o in v.options]) for v in page.variants]


def with_options(db, page, name: str, *deltas: int) -> Variant:
    variant = variants.add_variant(db, page, name=name)
    for n, delta in enumerate(deltas):
        variants.add_option(db, variant, name=f"{name} {n + 1}", price_delta=delta)
    return variant


def test_add_rename_and_list_in_position_order(db, page):
    size = with_options(db, page, "Size", 0, 200)
    colour = variants.add_variant(db, page, name="  Colour ")
    variants.rename_variant(db, size, name="Fit")
    db.expire_all()
    assert shape(page) == [("Fit", 0, [("Size 1", 0, 0), ("Size 2", 200, 1)]), ("Colour", 1, [])]
    assert colour.page_id == page.id


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "New\nline"])
def test_names_are_checked(db, page, name):
    with pytest.raises(ValidationFailed) as error:
        variants.add_variant(db, page, name=name)
    assert set(error.value.fields) == {"name"}
    size = variants.add_variant(db, page, name="Size")
    with pytest.raises(ValidationFailed):
        variants.add_option(db, size, name=name, price_delta=0)
    with pytest.raises(ValidationFailed):
        variants.rename_variant(db, size, name=name)
    assert size.name == "Size" and size.options == []


@pytest.mark.parametrize("delta", [pages.MAX_AMOUNT + 1, -pages.MAX_AMOUNT - 1, True, 1.5])
def test_deltas_are_whole_minor_units_within_bounds(db, page, delta):
    size = variants.add_variant(db, page, name="Size")
    with pytest.raises(ValidationFailed) as error:
        variants.add_option(db, size, name="Huge", price_delta=delta)
    assert set(error.value.fields) == {"price_delta"}


def test_limits_on_counts(db, page, monkeypatch):
    monkeypatch.setattr(variants, "MAX_VARIANTS", 2)
    monkeypatch.setattr(variants, "MAX_OPTIONS", 1)
    size = with_options(db, page, "Size", 0)
    variants.add_variant(db, page, name="Colour")
    with pytest.raises(ValidationFailed, match="at most 2 variants"):
        variants.add_variant(db, page, name="Third")
    with pytest.raises(ValidationFailed, match="at most 1 options"):
        variants.add_option(db, size, name="Second", price_delta=0)


# ---------- the price floor ----------

def test_an_option_may_discount_down_to_exactly_zero(db, page):
    size = variants.add_variant(db, page, name="Size")
    variants.add_option(db, size, name="Free sample", price_delta=-1000)
    with pytest.raises(ValidationFailed) as error:
        variants.add_option(db, size, name="Too cheap", price_delta=-1001)
    assert set(error.value.fields) == {"price_delta"} and "at least 0" in error.value.message
    assert [o.name for o in size.options] == ["Free sample"]


def test_the_floor_sums_the_cheapest_option_of_every_variant(db, page):
    with_options(db, page, "Size", -600, 0)
    colour = with_options(db, page, "Colour", 100)
    variants.add_option(db, colour, name="Cheap colour", price_delta=-400)
    with pytest.raises(ValidationFailed):
        variants.add_option(db, colour, name="Cheaper", price_delta=-401)
    assert pages.lowest_price(page.amount, pages.page_deltas(page)) == 0


def test_repricing_an_option_below_the_floor_is_refused(db, page):
    size = with_options(db, page, "Size", 0, 500)
    small = size.options[0]
    variants.update_option(db, small, price_delta=-1000, name="Tiny")
    assert (small.name, small.price_delta) == ("Tiny", -1000)
    with pytest.raises(ValidationFailed) as error:
        variants.update_option(db, small, price_delta=-1001, name="Tinier")
    assert set(error.value.fields) == {"price_delta"} and (small.name, small.price_delta) == ("Tiny", -1000)
    variants.update_option(db, small, name="Small")
    assert (small.name, small.price_delta) == ("Small", -1000)


def test_deleting_the_option_that_kept_the_total_up_is_refused(db, page):
    """Base 1000; Plan's only option +500 balances Discount's -1500. Without the +500 the
    cheapest total would be -500."""
    plan = with_options(db, page, "Plan", 500)
    discount = with_options(db, page, "Discount", 0)
    variants.update_option(db, discount.options[0], price_delta=-1500)
    with pytest.raises(ValidationFailed, match="less than nothing"):
        variants.delete_option(db, plan.options[0])
    with pytest.raises(ValidationFailed, match="less than nothing"):
        variants.delete_variant(db, plan)
    db.expire_all()
    assert shape(page) == [("Plan", 0, [("Plan 1", 500, 0)]), ("Discount", 1, [("Discount 1", -1500, 0)])]
    variants.delete_variant(db, discount)
    variants.delete_variant(db, plan)
    assert page.variants == []


def test_deleting_a_cheap_option_raises_the_floor_and_is_fine(db, page):
    size = with_options(db, page, "Size", -1000, 0)
    variants.delete_option(db, size.options[0])
    db.expire_all()
    assert shape(page) == [("Size", 0, [("Size 2", 0, 0)])]


def test_reordering_never_changes_the_floor(db, page):
    a = with_options(db, page, "A", -500, 100)
    b = with_options(db, page, "B", -500, 0)
    variants.reorder_variants(db, page, [b.id, a.id])
    variants.reorder_options(db, a, [a.options[1].id, a.options[0].id])
    assert pages.lowest_price(page.amount, pages.page_deltas(page)) == 0
    with pytest.raises(ValidationFailed):
        variants.add_option(db, b, name="Deeper", price_delta=-501)
    db.expire_all()
    assert shape(page) == [("B", 0, [("B 1", -500, 0), ("B 2", 0, 1)]), ("A", 1, [("A 2", 100, 0), ("A 1", -500, 1)])]


def test_a_lower_page_amount_is_refused_when_options_discount(db, page):
    with_options(db, page, "Size", -800)
    with pytest.raises(ValidationFailed):
        pages.update_page(db, page, amount=700)
    pages.update_page(db, page, amount=800)


# ---------- order ----------

def test_reorder_needs_every_id_exactly_once(db, page):
    a, b, c = (variants.add_variant(db, page, name=n) for n in "ABC")
    other = variants.add_variant(db, pages.create_page(db, page.store, title="Other", amount=1), name="X")
    for ids in ([a.id, b.id], [a.id, b.id, c.id, c.id], [a.id, b.id, other.id], [a.id, b.id, c.id, other.id], []):
        with pytest.raises(ValidationFailed) as error:
            variants.reorder_variants(db, page, ids)
        assert set(error.value.fields) == {"ids"}
    assert [v.name for v in variants.reorder_variants(db, page, [c.id, a.id, b.id])] == ["C", "A", "B"]
    db.expire_all()
    assert [(v.name, v.position) for v in page.variants] == [("C", 0), ("A", 1), ("B", 2)]


def test_move_up_and_down_stops_at_the_ends(db, page):
    a, b, c = (variants.add_variant(db, page, name=n) for n in "ABC")
    variants.move_variant(db, c, offset=-1)
    variants.move_variant(db, a, offset=-1)
    assert [v.name for v in page.variants] == ["A", "C", "B"]
    variants.move_variant(db, b, offset=1)
    assert [v.name for v in page.variants] == ["A", "C", "B"]
    size = with_options(db, page, "Size", 0, 1, 2)
    variants.move_option(db, size.options[0], offset=1)
    assert [o.price_delta for o in size.options] == [1, 0, 2]


def test_deleting_renumbers_the_rest(db, page):
    a, b, c = (with_options(db, page, n, 0, 1, 2) for n in "ABC")
    variants.delete_variant(db, b)
    variants.delete_option(db, a.options[1])
    db.expire_all()
    assert shape(page) == [("A", 0, [("A 1", 0, 0), ("A 3", 2, 1)]), ("C", 1, [("C 1", 0, 0), ("C 2", 1, 1), ("C 3", 2, 2)])]
    assert db.scalar(sa.select(sa.func.count(VariantOption.id))) == 5


# ---------- published pages stay buyable ----------

def test_a_published_page_cannot_gain_an_empty_variant_or_lose_a_last_option(db, page):
    size = with_options(db, page, "Size", 0)
    pages.publish_page(db, page)
    with pytest.raises(ValidationFailed, match="Unpublish the page"):
        variants.add_variant(db, page, name="Colour")
    with pytest.raises(ValidationFailed, match="at least one option"):
        variants.delete_option(db, size.options[0])
    variants.add_option(db, size, name="Large", price_delta=300)
    variants.delete_option(db, size.options[0])
    variants.delete_variant(db, size)
    assert page.status is PageStatus.PUBLISHED and page.variants == []


# ---------- scoping ----------

def test_variants_and_options_are_found_only_through_their_page(db, store, page):
    size = with_options(db, page, "Size", 0)
    other_page = pages.create_page(db, make_store(db, name="Other", slug="other"), title="Other", amount=1)
    other_variant = with_options(db, other_page, "Other", 0)
    assert variants.get_variant(db, page, size.id) is size
    assert variants.get_option(db, size, size.options[0].id) is size.options[0]
    for variant_id in (other_variant.id, 0, 2**63):
        with pytest.raises(NotFound):
            variants.get_variant(db, page, variant_id)
    for option_id in (other_variant.options[0].id, -1, 2**63):
        with pytest.raises(NotFound):
            variants.get_option(db, size, option_id)


def test_changes_touch_the_page(db, page):
    before = page.updated_at
    variants.add_variant(db, page, name="Size")
    assert page.updated_at > before
