"""A store with a long history, for the dashboard budget of SPEC §12 (payments list and balance
with 1,000,000 payments): `bench/seed_history.py --owner EMAIL --payments N` creates the store
through Checkie's services, then writes N succeeded payments spread over the past year and
their ledger (a `payment` and a `fee` row each, a correct balance_after chain and gap-free
sequence) with set-based SQL, and the store's balance row with its payment totals. Prints {"storeId": …} as JSON.

The rows are what checkouts leave behind, written in bulk: making a million of them through
the checkout would take hours. PostgreSQL only (the benchmark runs the production profile)."""
from __future__ import annotations

import argparse
import json

import sqlalchemy as sa

from checkie import create_app
from checkie.accounts.models import User
from checkie.extensions import db
from checkie.payments import ledger
from checkie.stores.services import create_store

AMOUNT = 2500  # USD 25.00 each


def seed(owner_email: str, count: int) -> int:
    session = db.session
    owner = session.scalar(sa.select(User).where(User.email == owner_email))
    store = create_store(session, owner=owner, name=f"History {count:,}", currency="USD")
    session.commit()
    fee = ledger.fee_for(AMOUNT)
    spacing = 365 * 86400 / count  # seconds between payments: one year of history, newest now
    params = {"store": store.id, "count": count, "amount": AMOUNT, "fee": fee, "net": AMOUNT - fee,
              "spacing": spacing}
    # psycopg sends small Python ints as smallint: spell the types out, products overflow it.
    session.execute(sa.text("""
        INSERT INTO payments (store_id, amount, fee, net, currency, amount_refunded, status, provider,
                              provider_payment_id, email, needs_review, created_at)
        SELECT :store, :amount, :fee, :net, 'USD', 0, 'succeeded', 'test',
               'pi_history_' || :store || '_' || n, 'buyer' || (n % 50000) || '@example.com', false,
               now() - make_interval(secs => (CAST(:count AS bigint) - n) * CAST(:spacing AS double precision))
        FROM generate_series(1, CAST(:count AS bigint)) AS n
    """), params)
    # Row k's payment entry: k payments in, k − 1 fees out; its fee entry: k of each.
    session.execute(sa.text("""
        INSERT INTO balance_transactions (store_id, currency, type, amount, balance_after, sequence, payment_id,
                                          description, created_at)
        SELECT p.store_id, 'USD', e.type, e.amount,
               CASE e.type WHEN 'payment' THEN p.k * CAST(:amount AS bigint) - (p.k - 1) * CAST(:fee AS bigint)
                           ELSE p.k * CAST(:net AS bigint) END,
               2 * p.k - 1 + e.step, p.id, e.description, p.created_at
        FROM (SELECT id, store_id, created_at, row_number() OVER (ORDER BY id) AS k
              FROM payments WHERE store_id = :store) AS p
        CROSS JOIN (VALUES ('payment', CAST(:amount AS bigint), 0, 'Payment'),
                           ('fee', -CAST(:fee AS bigint), 1, 'Platform fee'))
             AS e(type, amount, step, description)
    """), params)
    session.execute(sa.text("""
        INSERT INTO store_balances (store_id, currency, available, last_sequence, payment_count, payment_volume,
                                    updated_at)
        VALUES (:store, 'USD', CAST(:count AS bigint) * :net, 2 * CAST(:count AS bigint), :count,
                CAST(:count AS bigint) * :amount, now())
    """), params)
    session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE payments"))
        connection.execute(sa.text("ANALYZE balance_transactions"))
    return store.id


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--owner", required=True, help="the email of the bench merchant (bench/seed.py)")
    parser.add_argument("--payments", type=int, required=True)
    args = parser.parse_args()
    with create_app().app_context():
        print(json.dumps({"storeId": seed(args.owner, args.payments)}))
