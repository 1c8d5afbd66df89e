"""Variants of a page (e.g. "Size") and their ordered options with price deltas (minor units).

Every change keeps the price floor: the page amount plus the smallest delta of each variant
is never below zero (`checkie.catalog.pages.lowest_price`). A published page stays buyable:
it cannot gain a variant without options, nor lose a variant's last option. Field errors are
keyed by the services' arguments (`name`, `price_delta`, `ids`). Callers hold the page's row lock
(`pages.get_page(..., for_update=True)`).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.catalog.models import Page, PageStatus, Variant, VariantOption
from checkie.catalog.pages import MAX_AMOUNT, check_price_floor
from checkie.database import utcnow
from checkie.errors import NotFound, ValidationFailed
from checkie.stores.access import MAX_ID
from checkie.stores.services import clean_label

NAME_MAX_LENGTH = 100
MAX_VARIANTS = 20
MAX_OPTIONS = 50


# ---------- reading ----------

def get_variant(db: Session, page: Page, variant_id: int) -> Variant:
    """A variant of `page` (itself already scoped to a store); anything else is NotFound."""
    variant = None
    if 0 < variant_id <= MAX_ID:
        variant = db.scalar(sa.select(Variant).where(Variant.id == variant_id, Variant.page_id == page.id))
    if variant is None:
        raise NotFound("Variant not found.")
    return variant


def get_option(db: Session, variant: Variant, option_id: int) -> VariantOption:
    option = None
    if 0 < option_id <= MAX_ID:
        option = db.scalar(
            sa.select(VariantOption).where(VariantOption.id == option_id, VariantOption.variant_id == variant.id)
        )
    if option is None:
        raise NotFound("Option not found.")
    return option


# ---------- helpers ----------

def _name(value: str) -> str:
    return clean_label(value, field="name", max_length=NAME_MAX_LENGTH)


def _delta(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_AMOUNT <= value <= MAX_AMOUNT:
        raise ValidationFailed.on("price_delta", f"Enter a whole number of minor units from -{MAX_AMOUNT} to {MAX_AMOUNT}.")
    return value


def _deltas(page: Page, *, skip_variant: Variant | None = None, skip_option: VariantOption | None = None,
            replace: tuple[VariantOption, int] | None = None, add: tuple[Variant, int] | None = None) -> list[list[int]]:
    """The page's option deltas per variant as they would be after one change."""
    result = []
    for variant in page.variants:
        if variant is skip_variant:
            continue
        deltas = [
            replace[1] if replace and option is replace[0] else option.price_delta
            for option in variant.options if option is not skip_option
        ]
        if add and variant is add[0]:
            deltas.append(add[1])
        result.append(deltas)
    return result


def _touch(page: Page) -> None:
    page.updated_at = utcnow()


def _renumber(items: list) -> None:
    for position, item in enumerate(items):
        item.position = position


def _reordered(items: list, ids: list[int], what: str) -> list:
    """`items` in the order of `ids`, which must name each of them exactly once."""
    by_id = {item.id: item for item in items}
    if len(ids) != len(set(ids)) or set(ids) != set(by_id):
        raise ValidationFailed.on("ids", f"List every {what} exactly once, in the new order.")
    return [by_id[i] for i in ids]


def _moved_ids(items: list, item, offset: int) -> list[int]:
    ids = [i.id for i in items]
    index = ids.index(item.id)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    return ids


# ---------- variants ----------

def add_variant(db: Session, page: Page, *, name: str) -> Variant:
    """Append a variant (no options yet). A published page would show a choice with nothing
    to choose, so it must be unpublished first."""
    name = _name(name)
    if page.status is PageStatus.PUBLISHED:
        raise ValidationFailed.on(
            "name", "Unpublish the page to add a variant: a published page cannot offer a choice without options."
        )
    if len(page.variants) >= MAX_VARIANTS:
        raise ValidationFailed.on("name", f"A page has at most {MAX_VARIANTS} variants.")
    variant = Variant(name=name, position=len(page.variants))
    page.variants.append(variant)
    _touch(page)
    db.flush()
    return variant


def rename_variant(db: Session, variant: Variant, *, name: str) -> Variant:
    variant.name = _name(name)
    _touch(variant.page)
    db.flush()
    return variant


def delete_variant(db: Session, variant: Variant) -> None:
    """Remove a variant with its options. Refused when the rest would fall below the price floor
    (its cheapest option may have been what kept the total at or above zero)."""
    page = variant.page
    check_price_floor(page.amount, _deltas(page, skip_variant=variant), field=None)
    page.variants.remove(variant)
    _renumber(page.variants)
    _touch(page)
    db.flush()


def reorder_variants(db: Session, page: Page, ids: list[int]) -> list[Variant]:
    """Put the page's variants in the order of `ids` (each id exactly once). Prices do not change."""
    ordered = _reordered(list(page.variants), ids, "variant of the page")
    _renumber(ordered)
    _touch(page)
    db.flush()
    db.expire(page, ["variants"])
    return list(page.variants)


def move_variant(db: Session, variant: Variant, *, offset: int) -> list[Variant]:
    """One step up (-1) or down (+1): the dashboard's buttons, which work without JavaScript."""
    page = variant.page
    return reorder_variants(db, page, _moved_ids(list(page.variants), variant, offset))


# ---------- options ----------

def add_option(db: Session, variant: Variant, *, name: str, price_delta: int) -> VariantOption:
    """Append an option; `price_delta` (minor units, may be negative) must keep the price floor."""
    name, price_delta = _name(name), _delta(price_delta)
    if len(variant.options) >= MAX_OPTIONS:
        raise ValidationFailed.on("name", f"A variant has at most {MAX_OPTIONS} options.")
    page = variant.page
    check_price_floor(page.amount, _deltas(page, add=(variant, price_delta)), field="price_delta")
    option = VariantOption(name=name, price_delta=price_delta, position=len(variant.options))
    variant.options.append(option)
    _touch(page)
    db.flush()
    return option


def update_option(
    db: Session, option: VariantOption, *, name: str | None = None, price_delta: int | None = None
) -> VariantOption:
    """Rename and/or reprice an option (None leaves a value alone), keeping the price floor."""
    page = option.variant.page
    if name is not None:
        name = _name(name)
    if price_delta is not None:
        price_delta = _delta(price_delta)
        check_price_floor(page.amount, _deltas(page, replace=(option, price_delta)), field="price_delta")
        option.price_delta = price_delta
    if name is not None:
        option.name = name
    _touch(page)
    db.flush()
    return option


def delete_option(db: Session, option: VariantOption) -> None:
    """Remove an option. The last option of a variant on a published page stays (delete the
    variant instead); a removal that drops the cheapest total below zero is refused."""
    variant = option.variant
    page = variant.page
    if page.status is PageStatus.PUBLISHED and len(variant.options) == 1:
        raise ValidationFailed(
            f"“{variant.name}” needs at least one option while the page is published: delete the variant instead."
        )
    check_price_floor(page.amount, _deltas(page, skip_option=option), field=None)
    variant.options.remove(option)
    _renumber(variant.options)
    _touch(page)
    db.flush()


def reorder_options(db: Session, variant: Variant, ids: list[int]) -> list[VariantOption]:
    ordered = _reordered(list(variant.options), ids, "option of the variant")
    _renumber(ordered)
    _touch(variant.page)
    db.flush()
    db.expire(variant, ["options"])
    return list(variant.options)


def move_option(db: Session, option: VariantOption, *, offset: int) -> list[VariantOption]:
    variant = option.variant
    return reorder_options(db, variant, _moved_ids(list(variant.options), option, offset))
