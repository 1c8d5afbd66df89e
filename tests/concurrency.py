"""Running the same work in several threads at once, each as a separate request would."""
from __future__ import annotations

import threading

from checkie.extensions import db as _db


def run_concurrently(app, count: int, work) -> list:
    """`work(session, index)` in `count` threads released together by a barrier, each with its own
    app context, session and transaction (committed); results in thread order. Thread errors fail
    the test. `work` must not touch the test's own ORM objects (an expired attribute would load
    through the test's session)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def worker(index: int) -> None:
        try:
            with app.app_context():
                session = _db.session
                try:
                    barrier.wait(timeout=30)
                    results[index] = work(session, index)
                    session.commit()
                finally:
                    session.remove()
        except Exception as error:  # noqa: BLE001 - a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results
