"""Migration 0005 gives existing balance rows their payment totals from the ledger they already
have (SQLite here: the embedded profile upgrades in place like production does)."""
from __future__ import annotations

import sqlite3

import pytest

from tests.embedded import query, run_flask, upgraded

pytestmark = pytest.mark.embedded


def test_existing_ledgers_get_their_payment_totals(tmp_path):
    env = upgraded(tmp_path, "0004_page_versions")
    with sqlite3.connect(tmp_path / "checkie.db") as conn:
        conn.executemany(
            "INSERT INTO store_balances (store_id, currency, available, last_sequence, updated_at) "
            "VALUES (?, ?, ?, ?, '2026-01-01 00:00:00')",
            [(1, "USD", 3331, 5), (1, "EUR", 0, 0)],
        )
        conn.executemany(
            "INSERT INTO balance_transactions (store_id, currency, type, amount, balance_after, sequence, created_at) "
            "VALUES (1, 'USD', ?, ?, ?, ?, '2026-01-01 00:00:00')",
            [("payment", 1000, 1000, 1), ("fee", -29, 971, 2), ("payment", 2500, 3471, 3), ("fee", -73, 3398, 4),
             ("refund", -67, 3331, 5)],
        )
    run_flask("db", "upgrade", env=env)
    assert sorted(query(tmp_path, "SELECT currency, payment_count, payment_volume FROM store_balances")) == [
        ("EUR", 0, 0), ("USD", 2, 3500),
    ]
