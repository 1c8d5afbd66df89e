"""Factories for the custom-field and embed tests (service, API and dashboard). `make_page`
writes the page and its stats row directly, so these tests do not depend on the pages service's
rules; `sessions` stands in for checkout sessions, which do not exist yet."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.catalog import embeds, fields
from checkie.catalog.models import CustomField, Embed, Page, PageStats, PageStatus
from checkie.stores.models import Store


def make_page(db, store: Store, *, title: str = "T-shirt", slug: str | None = None, sessions: int = 0,
              status: PageStatus = PageStatus.PUBLISHED) -> Page:
    count = db.scalar(sa.select(sa.func.count(Page.id))) + 1
    page = Page(store_id=store.id, slug=slug or f"page-{count}", title=title, description="", amount=2500,
                currency=store.currency, status=status)
    page.stats = PageStats(views=0, sessions=sessions, conversions=0, revenue=0)
    db.add(page)
    db.flush()
    return page


def open_sessions(db, page: Page, count: int = 1) -> None:
    """What checkout will do when it opens a session: an atomic increment of the counter."""
    db.execute(sa.update(PageStats).where(PageStats.page_id == page.id).values(sessions=PageStats.sessions + count))
    db.flush()
    db.refresh(page.stats)


def make_field(db, page: Page, *, label: str = "Company", type: str = "text", **options) -> CustomField:
    return fields.create_field(db, page, label=label, type=type, **options)


def make_embed(db, page: Page, *, type: str = "inline", **options) -> Embed:
    return embeds.create_embed(db, page, type=type, **options)
