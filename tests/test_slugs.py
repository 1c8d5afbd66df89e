"""checkie.slugs as both of its users see it: stores (platform-wide, reserved words) and pages
(per store): derived slugs, the length cap with a numbered suffix, and a slug lost to a
concurrent insert (retried when derived, refused when chosen)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie import slugs
from checkie.catalog import pages
from checkie.catalog.models import Page
from checkie.errors import ValidationFailed
from checkie.stores.services import STORE_SLUGS


@pytest.mark.parametrize("kind, fallback", [(STORE_SLUGS, "store"), (pages.PAGE_SLUGS, "page")])
def test_slugify_caps_the_length_and_falls_back_per_kind(kind, fallback):
    assert slugs.slugify("Ça coûte 5 €!", kind) == "ca-coute-5"
    assert slugs.slugify("日本語", kind) == fallback
    capped = slugs.slugify("a" * (kind.max_length - 1) + " b c", kind)
    assert len(capped) <= kind.max_length and not capped.endswith("-")


@pytest.mark.parametrize("name", ["Alice's Bakery", "Alice\u2019s Bakery", "Alice`s  Bakery"])
def test_an_apostrophe_stays_inside_its_word(name):
    assert slugs.slugify(name, STORE_SLUGS) == "alices-bakery"


def test_an_explicit_slug_breaks_the_rules_of_its_kind(db, store):
    with pytest.raises(ValidationFailed) as reserved:
        slugs.check_slug(db, STORE_SLUGS, "dashboard")
    assert reserved.value.fields == {"slug": ["This address is reserved; choose another."]}
    assert slugs.check_slug(db, pages.PAGE_SLUGS, " Dashboard ", scope=[Page.store_id == store.id]) == "dashboard"
    with pytest.raises(ValidationFailed) as malformed:
        slugs.check_slug(db, pages.PAGE_SLUGS, "two--hyphens")
    assert "(e.g. summer-sale)" in malformed.value.fields["slug"][0]


def blind_first_check(monkeypatch):
    """Another transaction inserts the same slug between our check and our insert: the next
    availability check answers "free" although the slug is taken."""
    real, calls = slugs.is_taken, []

    def racing(db, kind, slug, **kwargs):
        calls.append(slug)
        return False if len(calls) == 1 else real(db, kind, slug, **kwargs)

    monkeypatch.setattr(slugs, "is_taken", racing)


def test_a_derived_page_slug_lost_to_a_concurrent_insert_is_retried(db, store, monkeypatch):
    pages.create_page(db, store, title="Hoodie", amount=100)
    blind_first_check(monkeypatch)
    second = pages.create_page(db, store, title="Hoodie", amount=100)
    db.commit()  # the transaction is still usable: only the savepoint was rolled back
    assert second.slug == "hoodie-2" and db.scalar(sa.select(sa.func.count(Page.id))) == 2


def test_an_explicit_page_slug_lost_to_a_concurrent_insert_is_refused(db, store, monkeypatch):
    pages.create_page(db, store, title="Hoodie", amount=100, slug="hoodie")
    blind_first_check(monkeypatch)
    with pytest.raises(ValidationFailed) as lost:
        pages.create_page(db, store, title="Other", amount=100, slug="hoodie")
    assert lost.value.fields == {"slug": ["Another page of this store already uses this address."]}
    db.commit()
    assert db.scalar(sa.select(sa.func.count(Page.id))) == 1
