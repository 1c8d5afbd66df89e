"""Checkout pages: create, edit, publish / archive / unpublish, duplicate, delete, and the rules
that decide whether a page can be bought (SPEC §3, §4).

Amounts are integers in minor units of the page currency. Field errors are keyed by the
arguments of `create_page` / `update_page` (`title`, `amount`, `trial_days`, `success_url` …).
Writers of one page hold its row lock (`get_page(..., for_update=True)`), because the price
floor spans the page and every option of every variant.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie import slugs
from checkie.catalog.models import (
    CustomField,
    FieldType,
    Interval,
    Page,
    PageStats,
    PageStatus,
    PricingType,
    Variant,
    VariantOption,
)
from checkie.database import utcnow
from checkie.errors import Conflict, NotFound, ValidationFailed
from checkie.money import CURRENCIES
from checkie.stores.access import MAX_ID
from checkie.stores.models import Store

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 5000
SLUG_MAX_LENGTH = 80
URL_MAX_LENGTH = 2048
SEARCH_MAX_LENGTH = 200
#: The largest price or price delta, in minor units (ten billion dollars; far inside BIGINT).
MAX_AMOUNT = 10**12
TRIAL_DAYS_MAX = 730
#: A billing period is at most one year, as payment providers allow.
INTERVAL_COUNT_MAX = {Interval.DAY: 365, Interval.WEEK: 52, Interval.MONTH: 12, Interval.YEAR: 1}

#: The attributes `update_page` changes (and `duplicate_page` copies).
EDITABLE = frozenset({
    "title", "slug", "description", "pricing_type", "amount", "currency", "interval", "interval_count", "trial_days",
    "success_url", "allow_coupons",
})

#: Page slugs are unique in their store: `/c/<store>/<page>`.
PAGE_SLUGS = slugs.SlugKind(
    column=Page.slug, id_column=Page.id, constraint="uq_pages_store_slug", max_length=SLUG_MAX_LENGTH,
    fallback="page", example="summer-sale", taken_message="Another page of this store already uses this address.",
)
_FLOOR_MESSAGE = (
    "The cheapest choice would cost less than nothing: the base price plus the lowest option of each variant "
    "must be at least 0."
)


# ---------- reading ----------

def get_page(db: Session, store: Store, page_id: int, *, for_update: bool = False) -> Page:
    """A page of `store`; another store's page is NotFound, like a missing one. With
    `for_update` the row is locked until the transaction ends (every writer takes it)."""
    if not 0 < page_id <= MAX_ID:
        raise NotFound("Page not found.")
    stmt = sa.select(Page).where(Page.id == page_id, Page.store_id == store.id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    page = db.scalar(stmt)
    if page is None:
        raise NotFound("Page not found.")
    return page


def pages_query(store: Store, *, status: PageStatus | str | None = None, search: str | None = None) -> sa.Select:
    """The store's pages, optionally of one status and with `search` in the title (any case).
    Unordered: callers paginate by id."""
    stmt = sa.select(Page).where(Page.store_id == store.id)
    if status:
        try:
            stmt = stmt.where(Page.status == PageStatus(status))
        except ValueError:
            raise ValidationFailed.on("status", "Choose draft, published or archived.") from None
    term = (search or "").strip()
    if term:
        if len(term) > SEARCH_MAX_LENGTH or _has_control(term, allow_newlines=False):
            raise ValidationFailed.on("search", f"Search with at most {SEARCH_MAX_LENGTH} ordinary characters.")
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Page.title.ilike(f"%{escaped}%", escape="\\"))
    return stmt


def has_checkouts(page: Page) -> bool:
    return page.stats is not None and page.stats.sessions > 0


def is_deletable(page: Page) -> bool:
    """Only a draft nobody has started a checkout on may disappear; anything else is archived."""
    return page.status is PageStatus.DRAFT and not has_checkouts(page)


# ---------- the price floor and "can it be bought" ----------

def lowest_price(amount: int, option_deltas: Iterable[Iterable[int]]) -> int:
    """The cheapest total a shopper can reach: the base amount plus, for each variant that has
    options, its smallest delta (minor units)."""
    return amount + sum(min(deltas, default=0) for deltas in (list(d) for d in option_deltas))


def page_deltas(page: Page) -> list[list[int]]:
    return [[option.price_delta for option in variant.options] for variant in page.variants]


def check_price_floor(amount: int, option_deltas: Iterable[Iterable[int]], *, field: str | None) -> None:
    """ValidationFailed (on `field`, or for the whole request) when the cheapest choice would be below 0."""
    if lowest_price(amount, option_deltas) < 0:
        if field:
            raise ValidationFailed.on(field, _FLOOR_MESSAGE)
        raise ValidationFailed(_FLOOR_MESSAGE)


def _pricing_problems(pricing_type: PricingType, interval: Interval | None, trial_days: int, lowest: int) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    subscription = pricing_type is PricingType.SUBSCRIPTION
    if subscription and interval is None:
        problems["interval"] = ["Choose how often the subscription bills (day, week, month or year)."]
    if lowest <= 0 and not (subscription and trial_days > 0):
        problems["amount"] = [
            "Set a price above zero for the cheapest choice (only a subscription with a free trial may start at zero)."
        ]
    return problems


def publish_problems(page: Page) -> dict[str, list[str]]:
    """Why shoppers could not buy this page, by field (empty when it can be published)."""
    problems = _pricing_problems(page.pricing_type, page.interval, page.trial_days, lowest_price(page.amount, page_deltas(page)))
    empty = [f"“{v.name}” has no options: add one or delete the variant." for v in page.variants if not v.options]
    if empty:
        problems["variants"] = empty
    bad_fields = [
        f"The select field “{f.label}” has no options to choose from."
        for f in page.custom_fields if f.type is FieldType.SELECT and not f.options
    ]
    if bad_fields:
        problems["custom_fields"] = bad_fields
    return problems


# ---------- input rules ----------

def _has_control(text: str, *, allow_newlines: bool) -> bool:
    """Control characters (PostgreSQL refuses NUL outright) and lone surrogates (not encodable)."""
    allowed = "\n\r\t" if allow_newlines else ""
    return any(
        (unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed) for ch in text
    )


def check_success_url(value: str | None) -> str | None:
    """Where shoppers go after paying: empty for Checkie's own success page, else http(s)."""
    value = (value or "").strip()
    if not value:
        return None
    problem = None
    if len(value) > URL_MAX_LENGTH:
        problem = f"Use at most {URL_MAX_LENGTH} characters."
    elif _has_control(value, allow_newlines=False) or any(ch.isspace() for ch in value):
        problem = "A web address has no spaces or control characters."
    else:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError for a malformed port)
        except ValueError:
            parts = None
        if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            problem = "Use a full http:// or https:// address, e.g. https://example.com/thanks."
    if problem:
        raise ValidationFailed.on("success_url", problem)
    return value


def _clean_title(value, errors: dict) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        errors["title"] = ["Enter a title."]
    elif len(value) > TITLE_MAX_LENGTH:
        errors["title"] = [f"Use at most {TITLE_MAX_LENGTH} characters."]
    elif _has_control(value, allow_newlines=False):
        errors["title"] = ["Use letters, digits, spaces and punctuation only."]
    return value


def _clean_description(value, errors: dict) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [f"Use at most {DESCRIPTION_MAX_LENGTH} characters."]
    elif _has_control(value, allow_newlines=True):
        errors["description"] = ["Remove control characters from the description."]
    return value


def _enum(enum_cls, value, field: str, errors: dict, message: str):
    if value is None or isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except ValueError:
        errors[field] = [message]
        return None


def _whole(value, field: str, errors: dict, *, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = [message]
        return low
    return value


def _validated(db: Session, store: Store, values: dict, *, given: set[str], page: Page | None) -> dict:
    """Check a page's would-be attributes all at once (every problem by field), normalise them
    and return them (`slug` None: derive one). One-time pages carry no interval, period count or
    trial: an explicitly given one is an error, a left-over one (after switching) is cleared."""
    errors: dict[str, list[str]] = {}
    out = dict(values)
    out["title"] = _clean_title(values["title"], errors)
    out["description"] = _clean_description(values["description"], errors)
    out["pricing_type"] = _enum(PricingType, values["pricing_type"], "pricing_type", errors, "Choose one_time or subscription.")
    out["interval"] = _enum(Interval, values["interval"], "interval", errors, "Choose day, week, month or year.")
    out["amount"] = _whole(values["amount"], "amount", errors, low=0, high=MAX_AMOUNT,
                           message=f"Enter a whole number of minor units from 0 to {MAX_AMOUNT}.")
    out["trial_days"] = _whole(values["trial_days"], "trial_days", errors, low=0, high=TRIAL_DAYS_MAX,
                               message=f"A trial lasts 0 to {TRIAL_DAYS_MAX} days.")
    out["interval_count"] = _whole(values["interval_count"], "interval_count", errors, low=1, high=365,
                                   message="Bill every 1 or more periods.")
    currency = (values["currency"] or "").strip().upper() if isinstance(values["currency"], str) else ""
    if currency not in CURRENCIES:
        errors["currency"] = ["Choose a supported ISO-4217 currency, e.g. USD."]
    elif page is not None and currency != page.currency and has_checkouts(page):
        errors["currency"] = ["Checkouts were already started in this currency; duplicate the page to sell in another."]
    out["currency"] = currency
    out["allow_coupons"] = bool(values["allow_coupons"])
    try:
        out["success_url"] = check_success_url(values["success_url"])
    except ValidationFailed as error:
        errors.update(error.fields or {})
    _check_period(out, given, errors)
    slug = values.get("slug")
    if not slug:
        # No slug: keep the page's own, or (for a new page) derive one from the title later.
        out["slug"] = page.slug if page is not None else None
    elif page is None or slug != page.slug:
        try:
            out["slug"] = slugs.check_slug(
                db, PAGE_SLUGS, slug, scope=_in_store(store.id), except_id=page.id if page else None
            )
        except ValidationFailed as error:
            errors.update(error.fields or {})
    if errors:
        raise ValidationFailed("Some fields are invalid.", fields=errors)
    return out


def _check_period(out: dict, given: set[str], errors: dict) -> None:
    if out["pricing_type"] is PricingType.ONE_TIME:
        if "interval" in given and out["interval"] is not None:
            errors["interval"] = ["Only subscriptions have a billing interval."]
        if "trial_days" in given and out["trial_days"]:
            errors["trial_days"] = ["Only subscriptions have a free trial."]
        if "interval_count" in given and out["interval_count"] != 1:
            errors["interval_count"] = ["Only subscriptions bill every few periods."]
        out.update(interval=None, interval_count=1, trial_days=0)
    elif out["interval"] is not None and out["interval_count"] > INTERVAL_COUNT_MAX[out["interval"]]:
        limit = INTERVAL_COUNT_MAX[out["interval"]]
        errors["interval_count"] = [f"A billing period is at most one year: at most {limit} × {out['interval'].value}."]


# ---------- writing ----------

def _in_store(store_id: int) -> list[sa.ColumnElement[bool]]:
    return [Page.store_id == store_id]


def _insert_page(db: Session, store: Store, values: dict, *, explicit_slug: str | None, slug_from: str) -> Page:
    """Insert a page (and its zeroed stats) under a free slug, retrying if a concurrent insert wins."""

    def make(slug: str) -> Page:
        page = Page(store_id=store.id, slug=slug, status=PageStatus.DRAFT, **values)
        page.stats = PageStats(views=0, sessions=0, conversions=0, revenue=0)
        return page

    return slugs.insert_with_slug(db, PAGE_SLUGS, make, explicit=explicit_slug, text=slug_from, scope=_in_store(store.id))


def create_page(
    db: Session, store: Store, *, title: str, slug: str | None = None, description: str = "",
    pricing_type: PricingType | str = PricingType.ONE_TIME, amount: int = 0, currency: str | None = None,
    interval: Interval | str | None = None, interval_count: int = 1, trial_days: int = 0,
    success_url: str | None = None, allow_coupons: bool = False,
) -> Page:
    """A new draft page (with zeroed stats) in `store`; the currency defaults to the store's.
    Without `slug` one is derived from the title, unique in the store (-2, -3 …)."""
    given = {name for name, value, default in (
        ("interval", interval, None), ("interval_count", interval_count, 1), ("trial_days", trial_days, 0)
    ) if value != default}
    values = _validated(db, store, {
        "title": title, "slug": slug, "description": description, "pricing_type": pricing_type, "amount": amount,
        "currency": currency or store.currency, "interval": interval, "interval_count": interval_count,
        "trial_days": trial_days, "success_url": success_url, "allow_coupons": allow_coupons,
    }, given=given, page=None)
    explicit = values.pop("slug")
    return _insert_page(db, store, values, explicit_slug=explicit, slug_from=values["title"])


def update_page(db: Session, page: Page, **changes) -> Page:
    """Change any of the attributes in `EDITABLE` (only those given). The result must keep the
    price floor, and a published page must stay buyable: a change that would stop it is refused."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"update_page() got unexpected attributes {sorted(unknown)}")
    current = {name: getattr(page, name) for name in EDITABLE}
    values = _validated(db, page.store, {**current, **changes}, given=set(changes), page=page)
    check_price_floor(values["amount"], page_deltas(page), field="amount")
    if page.status is PageStatus.PUBLISHED:
        lowest = lowest_price(values["amount"], page_deltas(page))
        broken = _pricing_problems(values["pricing_type"], values["interval"], values["trial_days"], lowest)
        if broken:
            raise ValidationFailed("Shoppers could not buy the page after this change; unpublish it first.", fields=broken)

    def apply() -> None:
        for name, value in values.items():
            if getattr(page, name) != value:
                setattr(page, name, value)

    slugs.change_with_slug(db, PAGE_SLUGS, apply)
    return page


def _move(db: Session, page: Page, to: PageStatus, allowed_from: set[PageStatus], verb: str) -> Page:
    if page.status is to:
        raise Conflict(f"The page is already {to.value}.")
    if page.status not in allowed_from:
        raise Conflict(f"A {page.status.value} page cannot be {verb}.")
    page.status = to
    db.flush()
    return page


def publish_page(db: Session, page: Page) -> Page:
    """Put a draft or archived page on sale. ValidationFailed listing every reason (by field)
    when shoppers could not buy it; Conflict when it is already published."""
    if page.status is not PageStatus.PUBLISHED:
        problems = publish_problems(page)
        if problems:
            reasons = " ".join(message for messages in problems.values() for message in messages)
            raise ValidationFailed(f"This page cannot be published yet. {reasons}", fields=problems)
    _move(db, page, PageStatus.PUBLISHED, {PageStatus.DRAFT, PageStatus.ARCHIVED}, "published")
    page.published_at = utcnow()
    db.flush()
    return page


def archive_page(db: Session, page: Page) -> Page:
    """Take a page off sale for good (kept with its history; it can be restored as a draft)."""
    return _move(db, page, PageStatus.ARCHIVED, {PageStatus.DRAFT, PageStatus.PUBLISHED}, "archived")


def unpublish_page(db: Session, page: Page) -> Page:
    """Back to draft: shoppers no longer see it, and it can be edited freely before publishing again."""
    _move(db, page, PageStatus.DRAFT, {PageStatus.PUBLISHED, PageStatus.ARCHIVED}, "moved back to draft")
    page.published_at = None
    db.flush()
    return page


def delete_page(db: Session, page: Page) -> None:
    """Delete a draft nobody has checked out on (variants, fields, stats go with it). Anything
    else is part of the store's history: Conflict, pointing to archiving instead."""
    if page.status is not PageStatus.DRAFT:
        raise Conflict(f"Only drafts can be deleted and this page is {page.status.value}: archive it instead.")
    if has_checkouts(page):
        raise Conflict("Shoppers have started checkouts on this page, so it cannot be deleted: archive it instead.")
    db.delete(page)
    db.flush()


def _copy_title(title: str) -> str:
    suffix = " (copy)"
    return title[: TITLE_MAX_LENGTH - len(suffix)].rstrip() + suffix


def duplicate_page(db: Session, page: Page) -> Page:
    """A new draft with the same pricing, description, variants and options and custom fields,
    titled "… (copy)" under a fresh slug, with zeroed stats."""
    values = {name: getattr(page, name) for name in EDITABLE - {"slug", "title"}}
    copy = _insert_page(db, page.store, {**values, "title": _copy_title(page.title)}, explicit_slug=None,
                        slug_from=f"{page.slug}-copy")
    for variant in page.variants:
        copy.variants.append(Variant(name=variant.name, position=variant.position, options=[
            VariantOption(name=o.name, price_delta=o.price_delta, position=o.position) for o in variant.options
        ]))
    for field in page.custom_fields:
        copy.custom_fields.append(CustomField(
            key=field.key, label=field.label, type=field.type, required=field.required,
            options=list(field.options) if field.options is not None else None,
            help_text=field.help_text, position=field.position,
        ))
    db.flush()
    return copy
