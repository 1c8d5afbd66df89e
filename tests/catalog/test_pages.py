"""Pages service: create, slugs, pricing rules, publishing refusals, status moves, delete vs
archive, duplicate, the price floor on the page amount, listing and search."""
import pytest
import sqlalchemy as sa

from checkie.catalog import pages, variants
from checkie.catalog.models import (
    CustomField,
    FieldType,
    Interval,
    Page,
    PageStats,
    PageStatus,
    PricingType,
)
from checkie.database import utcnow
from checkie.errors import Conflict, NotFound, ValidationFailed
from tests.factories import make_store


def new_page(db, store, title="T-shirt", **options):
    options.setdefault("amount", 2500)
    return pages.create_page(db, store, title=title, **options)


def sell(db, page, sessions=1):
    """What checkout will do when it opens a session (an atomic increment)."""
    db.execute(sa.update(PageStats).where(PageStats.page_id == page.id).values(sessions=PageStats.sessions + sessions))
    db.refresh(page.stats)


def fields_of(error: ValidationFailed) -> set[str]:
    return set(error.fields or {})


# ---------- create ----------

def test_create_makes_a_draft_with_zeroed_stats_in_the_store_currency(db, store):
    page = pages.create_page(db, store, title="Summer T-Shirt", description="Soft cotton.\n\nMade to last.", amount=2500)
    assert (page.status, page.slug, page.currency, page.amount) == (PageStatus.DRAFT, "summer-t-shirt", "USD", 2500)
    assert (page.pricing_type, page.interval, page.interval_count, page.trial_days) == (PricingType.ONE_TIME, None, 1, 0)
    assert page.description == "Soft cotton.\n\nMade to last." and page.published_at is None
    stats = db.get(PageStats, page.id)
    assert (stats.views, stats.sessions, stats.conversions, stats.revenue) == (0, 0, 0, 0)


def test_slugs_from_titles_are_unique_per_store(db, store):
    other_store = make_store(db, name="Other", slug="other")
    assert [new_page(db, store, "Gift Card!").slug for _ in range(3)] == ["gift-card", "gift-card-2", "gift-card-3"]
    assert new_page(db, other_store, "Gift Card").slug == "gift-card"
    assert new_page(db, store, "Ça coûte 5 €").slug == "ca-coute-5"
    assert new_page(db, store, "日本語").slug == "page"
    long_title = "x" * 200
    slugs = {new_page(db, store, long_title).slug for _ in range(2)}
    assert all(len(slug) <= pages.SLUG_MAX_LENGTH for slug in slugs) and len(slugs) == 2


def test_an_explicit_slug_is_checked_for_form_and_uniqueness(db, store):
    assert new_page(db, store, slug="Launch-2025").slug == "launch-2025"
    for bad in ("has space", "-edge", "double--hyphen", "x" * 81, "ünï"):
        with pytest.raises(ValidationFailed) as error:
            new_page(db, store, slug=bad)
        assert fields_of(error.value) == {"slug"}, bad
    with pytest.raises(ValidationFailed, match="Some fields") as taken:
        new_page(db, store, slug="launch-2025")
    assert "already uses this address" in taken.value.fields["slug"][0]
    assert new_page(db, make_store(db, name="B", slug="b"), slug="launch-2025").slug == "launch-2025"


@pytest.mark.parametrize(
    "options, field",
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Tab\tin title"}, "title"),
        ({"description": "NUL \x00 byte"}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"amount": -1}, "amount"),
        ({"amount": pages.MAX_AMOUNT + 1}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"pricing_type": "monthly"}, "pricing_type"),
        ({"pricing_type": "subscription", "interval": "fortnight"}, "interval"),
        ({"pricing_type": "subscription", "interval": "month", "interval_count": 13}, "interval_count"),
        ({"pricing_type": "subscription", "interval": "week", "interval_count": 53}, "interval_count"),
        ({"pricing_type": "subscription", "interval": "year", "interval_count": 2}, "interval_count"),
        ({"pricing_type": "subscription", "interval": "day", "interval_count": 0}, "interval_count"),
        ({"pricing_type": "subscription", "interval": "day", "trial_days": 731}, "trial_days"),
        ({"interval": "month"}, "interval"),
        ({"trial_days": 7}, "trial_days"),
        ({"interval_count": 2}, "interval_count"),
        ({"success_url": "javascript:alert(1)"}, "success_url"),
        ({"success_url": "ftp://example.com/x"}, "success_url"),
        ({"success_url": "https://"}, "success_url"),
        ({"success_url": "http://[::1"}, "success_url"),
        ({"success_url": "https://example.com:99999/"}, "success_url"),
        ({"success_url": "https://exa mple.com/"}, "success_url"),
        ({"success_url": "https://example.com/" + "x" * 2048}, "success_url"),
    ],
)
def test_invalid_input_names_the_field(db, store, options, field):
    options = {"title": "T-shirt", **options}
    with pytest.raises(ValidationFailed) as error:
        pages.create_page(db, store, **options)
    assert field in fields_of(error.value), error.value.fields
    assert db.scalar(sa.select(sa.func.count(Page.id))) == 0


def test_every_problem_is_reported_at_once(db, store):
    with pytest.raises(ValidationFailed) as error:
        pages.create_page(db, store, title="", amount=-5, currency="???", success_url="mailto:x@example.com")
    assert fields_of(error.value) == {"title", "amount", "currency", "success_url"}


def test_success_urls_keep_http_and_https_and_empty_means_none(db, store):
    assert new_page(db, store, success_url=" https://shop.example/thanks?x=1 ").success_url == "https://shop.example/thanks?x=1"
    assert new_page(db, store, success_url="HTTP://shop.example").success_url == "HTTP://shop.example"
    assert new_page(db, store, success_url="").success_url is None


def test_subscription_pricing_is_kept(db, store):
    page = new_page(db, store, pricing_type="subscription", interval="month", interval_count=3, trial_days=14, currency="eur")
    assert (page.pricing_type, page.interval, page.interval_count, page.trial_days, page.currency) == (
        PricingType.SUBSCRIPTION, Interval.MONTH, 3, 14, "EUR")


# ---------- update ----------

def test_update_changes_only_what_is_given(db, store):
    page = new_page(db, store, description="Old", success_url="https://a.example")
    pages.update_page(db, page, title="New title", amount=990)
    assert (page.title, page.amount, page.description, page.success_url, page.slug) == (
        "New title", 990, "Old", "https://a.example", "t-shirt")
    pages.update_page(db, page, success_url=None, slug="new-address", allow_coupons=True)
    assert (page.success_url, page.slug, page.allow_coupons) == (None, "new-address", True)


def test_update_slug_must_be_free_but_may_stay_the_same(db, store):
    first, second = new_page(db, store, "First"), new_page(db, store, "Second")
    pages.update_page(db, first, slug="first")
    with pytest.raises(ValidationFailed) as error:
        pages.update_page(db, second, slug="first")
    assert fields_of(error.value) == {"slug"} and second.slug == "second"


def test_switching_to_one_time_clears_subscription_settings(db, store):
    page = new_page(db, store, pricing_type="subscription", interval="week", interval_count=2, trial_days=7)
    pages.update_page(db, page, pricing_type="one_time")
    assert (page.interval, page.interval_count, page.trial_days) == (None, 1, 0)


def test_currency_is_frozen_once_checkouts_started(db, store):
    page = new_page(db, store)
    pages.update_page(db, page, currency="EUR")
    sell(db, page)
    with pytest.raises(ValidationFailed) as error:
        pages.update_page(db, page, currency="GBP")
    assert fields_of(error.value) == {"currency"} and page.currency == "EUR"


def test_a_published_page_must_stay_buyable(db, store):
    page = new_page(db, store)
    pages.publish_page(db, page)
    with pytest.raises(ValidationFailed) as free:
        pages.update_page(db, page, amount=0)
    assert fields_of(free.value) == {"amount"}
    with pytest.raises(ValidationFailed) as no_interval:
        pages.update_page(db, page, pricing_type="subscription")
    assert fields_of(no_interval.value) == {"interval"}
    assert (page.amount, page.pricing_type) == (2500, PricingType.ONE_TIME)
    pages.update_page(db, page, pricing_type="subscription", interval="month", amount=0, trial_days=30)
    assert page.amount == 0


def test_update_rejects_unknown_attributes(db, store):
    with pytest.raises(TypeError):
        pages.update_page(db, new_page(db, store), status="published")


# ---------- the price floor (page side) ----------

def test_lowest_price_adds_each_variants_cheapest_option():
    assert pages.lowest_price(1000, [[0, 500], [-300, 200], []]) == 700
    assert pages.lowest_price(0, []) == 0


def test_lowering_the_amount_below_the_floor_is_refused(db, store):
    page = new_page(db, store, amount=1000)
    size = variants.add_variant(db, page, name="Size")
    variants.add_option(db, size, name="Small", price_delta=-400)
    pages.update_page(db, page, amount=400)
    with pytest.raises(ValidationFailed) as error:
        pages.update_page(db, page, amount=399)
    assert fields_of(error.value) == {"amount"} and page.amount == 400


# ---------- publishing ----------

def test_publish_a_buyable_page(db, store):
    page = new_page(db, store)
    pages.publish_page(db, page)
    assert page.status is PageStatus.PUBLISHED and page.published_at is not None


@pytest.mark.parametrize(
    "options, field, reason",
    [
        ({"amount": 0}, "amount", "price above zero"),
        ({"amount": 0, "pricing_type": "subscription", "interval": "month"}, "amount", "free trial"),
        ({"pricing_type": "subscription"}, "interval", "how often"),
        ({"amount": 0, "pricing_type": "subscription", "trial_days": 7}, "interval", "how often"),
    ],
)
def test_publish_refuses_pages_that_cannot_be_bought(db, store, options, field, reason):
    page = new_page(db, store, **options)
    with pytest.raises(ValidationFailed) as error:
        pages.publish_page(db, page)
    assert field in error.value.fields and reason in error.value.fields[field][0]
    assert reason in error.value.message and "cannot be published" in error.value.message
    assert page.status is PageStatus.DRAFT and page.published_at is None


def test_a_subscription_page_with_a_trial_is_published(db, store):
    """Renewals exist: a subscription page is sold like any other once it names its interval."""
    page = new_page(db, store, amount=900, pricing_type="subscription", interval="month", trial_days=14)
    assert pages.publish_problems(page) == {}
    pages.publish_page(db, page)
    assert page.status is PageStatus.PUBLISHED


def test_a_zero_base_price_is_fine_when_every_option_costs_something(db, store):
    page = new_page(db, store, amount=0)
    plan = variants.add_variant(db, page, name="Plan")
    variants.add_option(db, plan, name="Basic", price_delta=900)
    variants.add_option(db, plan, name="Pro", price_delta=1900)
    pages.publish_page(db, page)
    assert page.status is PageStatus.PUBLISHED


def test_a_zero_delta_option_on_a_free_page_keeps_it_unpublishable(db, store):
    page = new_page(db, store, amount=0)
    plan = variants.add_variant(db, page, name="Plan")
    variants.add_option(db, plan, name="Free", price_delta=0)
    variants.add_option(db, plan, name="Pro", price_delta=1900)
    assert "amount" in pages.publish_problems(page)


def test_publish_refuses_a_variant_without_options_and_a_select_without_options(db, store):
    page = new_page(db, store)
    variants.add_variant(db, page, name="Size")
    page.custom_fields.append(CustomField(key="country", label="Country", type=FieldType.SELECT, options=[]))
    page.custom_fields.append(CustomField(key="team", label="Team", type=FieldType.SELECT, options=None))
    page.custom_fields.append(CustomField(key="note", label="Note", type=FieldType.TEXT))
    db.flush()
    with pytest.raises(ValidationFailed) as error:
        pages.publish_page(db, page)
    assert error.value.fields == {
        "variants": ["“Size” has no options: add one or delete the variant."],
        "custom_fields": ["The select field “Country” has no options to choose from.",
                         "The select field “Team” has no options to choose from."],
    }


def test_status_moves_and_the_ones_that_conflict(db, store):
    page = new_page(db, store)
    with pytest.raises(Conflict, match="already draft"):
        pages.unpublish_page(db, page)
    pages.publish_page(db, page)
    with pytest.raises(Conflict, match="already published"):
        pages.publish_page(db, page)
    pages.unpublish_page(db, page)
    assert (page.status, page.published_at) == (PageStatus.DRAFT, None)
    pages.archive_page(db, page)
    with pytest.raises(Conflict, match="already archived"):
        pages.archive_page(db, page)
    pages.publish_page(db, page)
    assert page.status is PageStatus.PUBLISHED
    pages.archive_page(db, page)
    pages.unpublish_page(db, page)
    assert page.status is PageStatus.DRAFT


def test_republishing_an_archived_page_checks_it_again(db, store):
    page = new_page(db, store)
    pages.archive_page(db, page)
    pages.update_page(db, page, amount=0)
    with pytest.raises(ValidationFailed):
        pages.publish_page(db, page)
    assert page.status is PageStatus.ARCHIVED


# ---------- delete vs archive ----------

def test_a_draft_without_sessions_is_deleted_with_everything_it_owns(db, store):
    page = new_page(db, store)
    size = variants.add_variant(db, page, name="Size")
    variants.add_option(db, size, name="S", price_delta=0)
    page_id = page.id
    assert pages.is_deletable(page)
    pages.delete_page(db, page)
    db.expire_all()
    assert db.get(Page, page_id) is None and db.get(PageStats, page_id) is None
    assert db.scalar(sa.text("SELECT count(*) FROM variant_options")) == 0


@pytest.mark.parametrize("state", ["published", "archived", "draft with sessions"])
def test_anything_else_must_be_archived_instead(db, store, state):
    page = new_page(db, store)
    if state == "draft with sessions":
        sell(db, page)
    else:
        (pages.publish_page if state == "published" else pages.archive_page)(db, page)
    assert not pages.is_deletable(page)
    with pytest.raises(Conflict, match="archive it instead"):
        pages.delete_page(db, page)
    assert db.get(Page, page.id) is not None


def test_a_page_without_a_stats_row_counts_as_having_no_sessions(db, store):
    page = Page(store_id=store.id, slug="legacy", title="Legacy", description="", amount=100, currency="USD")
    db.add(page)
    db.flush()
    assert not pages.has_checkouts(page) and pages.is_deletable(page)


# ---------- duplicate ----------

def test_duplicate_copies_everything_into_a_new_draft_with_a_fresh_slug(db, store):
    page = new_page(db, store, "Hoodie", description="Warm", pricing_type="subscription", interval="year",
                    trial_days=3, success_url="https://example.com/ok", allow_coupons=True)
    size = variants.add_variant(db, page, name="Size")
    for name, delta in (("S", -200), ("XL", 300)):
        variants.add_option(db, size, name=name, price_delta=delta)
    variants.add_option(db, variants.add_variant(db, page, name="Colour"), name="Red", price_delta=0)
    page.custom_fields.append(CustomField(key="team", label="Team", type=FieldType.SELECT, options=["A", "B"],
                                          required=True, help_text="Pick one", position=0))
    # Published directly: a subscription page published before publishing refused them.
    page.status, page.published_at = PageStatus.PUBLISHED, utcnow()
    sell(db, page, 4)

    copy = pages.duplicate_page(db, page)
    assert copy.id != page.id and copy.store_id == store.id
    assert (copy.title, copy.slug, copy.status, copy.published_at) == ("Hoodie (copy)", "hoodie-copy", PageStatus.DRAFT, None)
    same = ("description", "pricing_type", "amount", "currency", "interval", "interval_count", "trial_days",
            "success_url", "allow_coupons")
    assert [getattr(copy, a) for a in same] == [getattr(page, a) for a in same]
    assert [(v.name, v.position, [(o.name, o.price_delta, o.position) for o in v.options]) for v in copy.variants] == [
        ("Size", 0, [("S", -200, 0), ("XL", 300, 1)]), ("Colour", 1, [("Red", 0, 0)])]
    assert {o.id for v in copy.variants for o in v.options}.isdisjoint({o.id for v in page.variants for o in v.options})
    assert [(f.key, f.label, f.type, f.options, f.required, f.help_text) for f in copy.custom_fields] == [
        ("team", "Team", FieldType.SELECT, ["A", "B"], True, "Pick one")]
    assert copy.stats.sessions == 0 and page.stats.sessions == 4
    assert pages.duplicate_page(db, page).slug == "hoodie-copy-2"


def test_duplicating_a_long_title_stays_within_the_limit(db, store):
    copy = pages.duplicate_page(db, new_page(db, store, "y" * 200))
    assert len(copy.title) == 200 and copy.title.endswith(" (copy)")


# ---------- reading ----------

def test_get_page_is_scoped_to_the_store(db, store):
    page = new_page(db, store)
    other = make_store(db, name="Other", slug="other")
    assert pages.get_page(db, store, page.id, for_update=True) is page
    for store_, page_id in ((other, page.id), (store, page.id + 1), (store, 0), (store, 2**63)):
        with pytest.raises(NotFound):
            pages.get_page(db, store_, page_id)


def test_query_filters_by_status_and_searches_titles(db, store):
    hoodie, mug, _ = new_page(db, store, "Blue Hoodie"), new_page(db, store, "Coffee mug"), new_page(db, store, "100% cotton_tee")
    new_page(db, make_store(db, name="Other", slug="other"), "Blue Hoodie")
    pages.publish_page(db, mug)

    def titles(**filters):
        return sorted(p.title for p in db.scalars(pages.pages_query(store, **filters)))

    assert titles() == ["100% cotton_tee", "Blue Hoodie", "Coffee mug"]
    assert titles(status="published") == ["Coffee mug"]
    assert titles(status=PageStatus.DRAFT) == ["100% cotton_tee", "Blue Hoodie"]
    assert titles(search="HOOD") == ["Blue Hoodie"] == titles(search="hood", status="draft")
    assert titles(search="%") == ["100% cotton_tee"] and titles(search="e_m") == [] and titles(search="n_t") == ["100% cotton_tee"]
    assert titles(search="   ") == titles()
    for bad in ({"status": "deleted"}, {"search": "a\x00b"}, {"search": "x" * 201}):
        with pytest.raises(ValidationFailed):
            titles(**bad)
    assert hoodie.store_id == store.id
