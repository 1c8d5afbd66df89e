"""Page counters: views, checkout sessions, conversions and revenue (SPEC §3 PageStats).

Every change is one `UPDATE page_stats SET n = n + k WHERE page_id = …`: the database adds to
whatever the row holds when the statement runs, so concurrent requests (any number of web
processes) never lose a count the way read-modify-write would. Nothing here commits.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.catalog.models import Page, PageStats
from checkie.database import rows_changed
from checkie.stores.access import MAX_ID

_COUNTERS = ("views", "sessions", "conversions", "revenue")


def ensure_stats(db: Session, page: Page) -> PageStats:
    """The page's counters, created (all zero) if missing. Pages get theirs when created; this
    is for pages that predate that, and safe when two requests create it at once."""
    stats = db.get(PageStats, page.id)
    if stats is not None:
        return stats
    try:
        with db.begin_nested():
            stats = PageStats(page_id=page.id, views=0, sessions=0, conversions=0, revenue=0)
            db.add(stats)
    except IntegrityError:
        stats = db.get(PageStats, page.id, populate_existing=True)
        if stats is None:  # the page itself is gone
            raise
    return stats


def record_view(db: Session, page_id: int, n: int = 1) -> bool:
    """Count `n` views of the checkout page. True when counted (False: no such page)."""
    return _add(db, page_id, views=n)


def record_session(db: Session, page_id: int, n: int = 1) -> bool:
    """Count `n` checkout sessions opened on the page."""
    return _add(db, page_id, sessions=n)


def record_opened(db: Session, page_id: int) -> bool:
    """Count one view and one session at once: what opening a checkout means (one UPDATE)."""
    return _add(db, page_id, views=1, sessions=1)


def record_conversion(db: Session, page_id: int, *, revenue: int) -> bool:
    """Count one completed checkout bringing `revenue` (minor units of the page currency)."""
    if revenue < 0:
        raise ValueError("revenue must not be negative")
    return _add(db, page_id, conversions=1, revenue=revenue)


def stats_by_page(db: Session, page_ids: list[int]) -> dict[int, PageStats]:
    """Counters of many pages in one query (for page lists); missing rows are simply absent."""
    if not page_ids:
        return {}
    rows = db.scalars(sa.select(PageStats).where(PageStats.page_id.in_(page_ids)))
    return {row.page_id: row for row in rows}


def conversion_rate(stats: PageStats | None) -> float:
    """Conversions per checkout session, 0–1 (0 before the first session)."""
    if stats is None or not stats.sessions:
        return 0.0
    return min(stats.conversions / stats.sessions, 1.0)


def _add(db: Session, page_id: int, **amounts: int) -> bool:
    """One atomic UPDATE adding `amounts` to the counters. A page without a stats row gets one
    (then the same UPDATE runs again), so a count is never dropped silently."""
    if any(name not in _COUNTERS or value < 0 for name, value in amounts.items()):
        raise ValueError("counters only grow, by non-negative amounts")
    if not 0 < page_id <= MAX_ID:
        return False
    if _update(db, page_id, amounts):
        return True
    page = db.get(Page, page_id)
    if page is None:
        return False
    ensure_stats(db, page)
    return _update(db, page_id, amounts)


@functools.cache
def _adding(names: tuple[str, ...]) -> sa.Update:
    """The UPDATE adding to the counters `names`, one object per set of counters (at most a few)
    with the page and the amounts bound at execution: SQLAlchemy reuses its cache key and
    compiled form, where a new statement per request had them derived again each time."""
    columns = PageStats.__table__.c
    return (
        sa.update(PageStats.__table__)
        .where(columns.page_id == sa.bindparam("stats_page_id"))
        .values({columns[name]: columns[name] + sa.bindparam(f"add_{name}", type_=columns[name].type) for name in names})
    )


def _update(db: Session, page_id: int, amounts: dict[str, int]) -> bool:
    values = {f"add_{name}": value for name, value in amounts.items()}
    changed = rows_changed(db.execute(_adding(tuple(sorted(amounts))), {"stats_page_id": page_id, **values})) == 1
    loaded = db.identity_map.get(Session.identity_key(PageStats, page_id))
    if loaded is not None:  # a loaded row must re-read its counters, not keep the old numbers
        db.expire(loaded, list(amounts))
    return changed
