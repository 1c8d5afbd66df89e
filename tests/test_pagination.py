"""checkie.pagination: keyset pages without gaps or repeats (also among rows created at the same
instant), cursors scoped to their store, and opaque cursors that refuse anything forged."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.checkout.models import CheckoutSession
from checkie.database import MAX_ID, utcnow
from checkie.pagination import (
    InvalidCursor,
    decode_cursor,
    decode_text_cursor,
    encode_cursor,
    id_or_none,
    keyset_page,
)
from tests.factories import make_checkout, make_page, make_store


def sessions_of(store):
    return sa.select(CheckoutSession).where(CheckoutSession.store_id == store.id)


def page_after(db, store, after, limit=2):
    return keyset_page(db, sessions_of(store), CheckoutSession.created_at, CheckoutSession.id, after=after,
                       limit=limit, scope=[CheckoutSession.store_id == store.id])


def test_pages_by_created_at_then_id_cover_every_row_once(db, store):
    now, shop_page = utcnow(), make_page(db, store)
    made = [make_checkout(db, shop_page, created_at=now - timedelta(minutes=n // 2)) for n in range(5)]  # ties in pairs
    expected = [s.id for s in sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)]
    seen, after = [], None
    while True:
        page = page_after(db, store, after)
        seen += [s.id for s in page.rows]
        if not page.more:
            assert page.next_id is None
            break
        after = page.next_id
        assert after == page.rows[-1].id
    assert seen == expected


def test_a_cursor_outside_the_scope_is_refused(db, store):
    foreign = make_checkout(db, make_page(db, make_store(db, name="Other")))
    for after in (foreign.id, "cs_nothing"):
        with pytest.raises(InvalidCursor) as refused:
            page_after(db, store, after)
        assert refused.value.fields == {"cursor": ["Invalid cursor."]} and refused.value.status == 422


@pytest.mark.parametrize("after", [0, -1, MAX_ID + 1])
def test_an_id_no_bigint_can_hold_is_refused_before_the_database(db, store, after):
    with pytest.raises(InvalidCursor):
        keyset_page(db, sessions_of(store), CheckoutSession.id, after=after, limit=1)


def test_cursors_round_trip():
    assert decode_cursor(encode_cursor(42)) == 42 and decode_text_cursor(encode_cursor("cs_abc")) == "cs_abc"
    assert encode_cursor(None) is None and decode_cursor(None) is None and decode_text_cursor("") is None


@pytest.mark.parametrize("cursor", ["%%%", "wrI", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "MA", "LTE", "A"])
def test_forged_id_cursors_are_refused(cursor):
    """Not base64; "²" (a digit to str.isdigit); 10**29 - 1 (past BIGINT); "0"; "-1"; bad padding."""
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


@pytest.mark.parametrize("cursor", ["wrI", "AA", "%%%"])
def test_forged_text_cursors_are_refused(cursor):
    """Not ASCII; a NUL, which PostgreSQL text refuses outright; not base64."""
    with pytest.raises(InvalidCursor):
        decode_text_cursor(cursor)


def test_dashboard_ids_out_of_range_are_ignored():
    assert [id_or_none(v) for v in (None, 0, -5, 7, MAX_ID, MAX_ID + 1)] == [None, None, None, 7, MAX_ID, None]
