"""Helpers for the coupon and page-stats tests: factories and a thread runner."""
from __future__ import annotations

import threading

from checkie.catalog.coupons import create_coupon
from checkie.catalog.models import Coupon, Page
from checkie.catalog.pages import create_page
from checkie.extensions import db as _db
from checkie.stores.models import Store


def make_page(db, store: Store, *, title: str = "T-shirt", amount: int = 2500, currency: str | None = None,
              allow_coupons: bool = True, **options) -> Page:
    """A one-time draft page with its zeroed stats row, through the pages service."""
    return create_page(db, store, title=title, amount=amount, currency=currency, allow_coupons=allow_coupons, **options)


def make_coupon(db, store: Store, *, code: str = "SAVE10", **terms) -> Coupon:
    """A coupon through the service; 10 % off unless the terms say otherwise."""
    if "percent_off" not in terms and "amount_off" not in terms:
        terms["percent_off"] = 10
    if "amount_off" in terms and "currency" not in terms:
        terms["currency"] = store.currency
    return create_coupon(db, store, code=code, **terms)


def run_concurrently(app, count: int, work) -> list:
    """`work(session)` in `count` threads at once, each with its own app context, session and
    transaction (committed); returns the results in thread order. `work` must not touch the
    test's own ORM objects (an expired attribute would load through the test's session)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def worker(index: int) -> None:
        try:
            with app.app_context():
                session = _db.session
                try:
                    barrier.wait(timeout=30)
                    results[index] = work(session)
                    session.commit()
                finally:
                    session.remove()
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results
