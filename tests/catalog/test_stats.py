"""Page stats (checkie.catalog.stats): atomic counters, never read-modify-write."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from checkie.catalog import stats
from checkie.catalog.models import Page, PageStats
from checkie.extensions import db as _db
from tests.concurrency import run_concurrently
from tests.factories import make_page


@pytest.fixture
def page(db, store):
    page = make_page(db, store)
    db.commit()
    db.refresh(page)
    return page


def counters(db, page_id: int) -> tuple[int, int, int, int]:
    row = db.execute(
        sa.select(PageStats.views, PageStats.sessions, PageStats.conversions, PageStats.revenue)
        .where(PageStats.page_id == page_id)
    ).one()
    return tuple(row)


def test_each_counter_adds(db, page):
    assert stats.record_view(db, page.id)
    assert stats.record_view(db, page.id, n=3)
    assert stats.record_session(db, page.id)
    assert stats.record_conversion(db, page.id, revenue=2500)
    assert stats.record_conversion(db, page.id, revenue=1999)
    db.commit()
    assert counters(db, page.id) == (4, 1, 2, 4499)


def test_a_loaded_row_shows_the_new_numbers(db, page):
    loaded = db.get(PageStats, page.id)
    assert loaded.views == 0
    stats.record_view(db, page.id)
    assert loaded.views == 1


def _statements_of(work) -> list[str]:
    """The SQL statements `work()` sends."""
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(_db.engine, "before_cursor_execute", capture)
    return statements


def test_each_record_is_one_update_statement(app, db, page):
    [statement] = _statements_of(lambda: stats.record_conversion(db, page.id, revenue=100))
    assert statement.startswith("UPDATE page_stats SET")
    assert "conversions=(page_stats.conversions +" in statement.replace(" = ", "=")
    assert "revenue=(page_stats.revenue +" in statement.replace(" = ", "=")


def test_a_page_without_a_stats_row_gets_one(db, store):
    page = Page(store_id=store.id, slug="old", title="Old page", amount=100, currency="USD", description="")
    db.add(page)
    db.commit()
    assert stats.record_view(db, page.id, n=2)
    db.commit()
    assert counters(db, page.id) == (2, 0, 0, 0)


def test_ensure_stats_is_idempotent(db, store):
    page = Page(store_id=store.id, slug="old", title="Old page", amount=100, currency="USD", description="")
    db.add(page)
    db.flush()
    first = stats.ensure_stats(db, page)
    assert stats.ensure_stats(db, page) is first
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(PageStats)) == 1


def test_unknown_pages_and_bad_amounts(db, page):
    assert not stats.record_view(db, 424242)
    assert not stats.record_view(db, 2**63)
    with pytest.raises(ValueError):
        stats.record_conversion(db, page.id, revenue=-1)
    with pytest.raises(ValueError):
        stats.record_view(db, page.id, n=-1)
    assert counters(db, page.id) == (0, 0, 0, 0)


def test_stats_by_page_and_conversion_rate(db, store, page):
    other = make_page(db, store, title="Mug")
    stats.record_session(db, page.id, n=4)
    stats.record_conversion(db, page.id, revenue=100)
    db.commit()
    found = stats.stats_by_page(db, [page.id, other.id, 999])
    assert set(found) == {page.id, other.id}
    assert stats.conversion_rate(found[page.id]) == 0.25
    assert stats.conversion_rate(found[other.id]) == 0.0 and stats.conversion_rate(None) == 0.0
    assert stats.stats_by_page(db, []) == {}


def test_fifty_concurrent_views_count_fifty(app, db, page):
    page_id = page.id
    results = run_concurrently(app, 50, lambda session, _: stats.record_view(session, page_id))
    assert all(results)
    assert counters(db, page_id)[0] == 50


def test_concurrent_counters_do_not_trample_each_other(app, db, page):
    page_id = page.id

    def mixed(session, _index):
        stats.record_session(session, page_id)
        return stats.record_conversion(session, page_id, revenue=250)

    assert all(run_concurrently(app, 30, mixed))
    assert counters(db, page_id) == (0, 30, 30, 7500)


def test_opening_a_checkout_counts_a_view_and_a_session_in_one_update(app, db, page):
    [statement] = _statements_of(lambda: stats.record_opened(db, page.id))
    assert statement.startswith("UPDATE page_stats SET")
    db.commit()
    assert counters(db, page.id) == (1, 1, 0, 0)
