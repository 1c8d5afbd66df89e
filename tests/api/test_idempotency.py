"""Idempotency-Key (SPEC §6.6) through the view decorator and run_idempotent, with fake views."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import jsonify

from checkie.api.idempotency import current_fingerprint, idempotent, run_idempotent
from checkie.checkout.idempotency import purge_expired_keys, request_fingerprint
from checkie.checkout.models import IdempotencyKey
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.extensions import db as _db


class FakeView:
    """Counts its runs; answers 201 with the run number unless told otherwise."""

    def __init__(self, status: int = 201, error: Exception | None = None):
        self.runs = 0
        self.status = status
        self.error = error
        self.started = threading.Event()
        self.proceed: threading.Event | None = None

    def __call__(self, store_id: int = 1):
        self.runs += 1
        self.started.set()
        if self.proceed is not None:
            self.proceed.wait(10)
        if self.error is not None:
            raise self.error
        return jsonify({"run": self.runs, "storeId": store_id}), self.status


def call(app, view, *, key: str | None = "key-1", body: dict | None = None, path: str = "/api/stores/1/refunds",
         scope=lambda store_id: f"store:{store_id}"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    with app.test_request_context(path, method="POST", json=body or {"amount": 100}, headers=headers):
        return idempotent(scope)(view)(store_id=1)


def _keys(app) -> list:
    with app.app_context():
        return list(_db.session.execute(sa.select(IdempotencyKey.key, IdempotencyKey.response_status)))


def test_without_a_key_the_view_runs_every_time(app):
    view = FakeView()
    assert call(app, view, key=None).status_code == 201
    assert call(app, view, key=None).status_code == 201
    assert view.runs == 2 and _keys(app) == []


def test_same_key_and_body_replays_the_first_response(app):
    view = FakeView()
    first = call(app, view)
    second = call(app, view)
    assert view.runs == 1
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json() == first.get_json() == {"run": 1, "storeId": 1}
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert second.mimetype == "application/json"
    assert _keys(app) == [("key-1", 201)]


def test_same_key_with_another_body_or_path_is_422(app):
    view = FakeView()
    call(app, view)
    for response in (call(app, view, body={"amount": 999}), call(app, view, path="/api/stores/1/payouts")):
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert view.runs == 1


def test_keys_are_scoped(app):
    view = FakeView()
    call(app, view, scope="store:1")
    call(app, view, scope="store:2")
    assert view.runs == 2


def test_a_request_in_flight_is_409(app):
    view = FakeView()
    view.proceed = threading.Event()
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", call(app, view)))
    first.start()
    try:
        assert view.started.wait(10)
        second = call(app, FakeView())
        assert second.status_code == 409
        assert second.get_json()["error"]["code"] == "idempotency_key_in_flight"
    finally:
        view.proceed.set()
        first.join()
    assert results["first"].status_code == 201
    assert call(app, view).headers["Idempotent-Replayed"] == "true"
    assert view.runs == 1


def test_concurrent_requests_run_the_view_once(app):
    view = FakeView()
    view.proceed = threading.Event()
    barrier = threading.Barrier(4)
    answers = []

    def worker():
        barrier.wait(10)
        answers.append(call(app, view).status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert view.started.wait(10)
    # Only release the first once every other request has been answered (409) or is about to be.
    for _ in range(200):
        if len(answers) == 3:
            break
        threading.Event().wait(0.05)
    view.proceed.set()
    for thread in threads:
        thread.join()
    assert view.runs == 1
    assert sorted(answers) == [201, 409, 409, 409]


def test_a_5xx_is_not_stored_and_a_retry_runs_again(app):
    failing = FakeView(status=503)
    assert call(app, failing).status_code == 503
    assert _keys(app) == []
    view = FakeView()
    assert call(app, view).status_code == 201 and view.runs == 1


@pytest.mark.parametrize("error", [RuntimeError("boom"), ValidationFailed.on("amount", "Too much.")])
def test_an_exception_is_not_stored(app, error):
    view = FakeView(error=error)
    with pytest.raises(type(error)):
        call(app, view)
    assert _keys(app) == []
    view.error = None
    assert call(app, view).status_code == 201 and view.runs == 2


def test_a_4xx_the_view_returns_is_stored(app):
    view = FakeView(status=402)
    call(app, view)
    replay = call(app, view)
    assert replay.status_code == 402 and replay.headers["Idempotent-Replayed"] == "true" and view.runs == 1


def test_expired_keys_count_as_absent_and_are_purged(app):
    view = FakeView()
    call(app, view)
    call(app, view, key="key-2")
    with app.app_context():
        rows = _db.session.execute(sa.select(IdempotencyKey.created_at, IdempotencyKey.expires_at)).all()
        assert all(abs(expires - created - timedelta(hours=24)) < timedelta(seconds=1) for created, expires in rows)
        _db.session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.key == "key-1")
                            .values(expires_at=utcnow() - timedelta(seconds=1)))
        _db.session.commit()
    fresh = call(app, view)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers and view.runs == 3
    with app.app_context():
        _db.session.execute(sa.update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert purge_expired_keys(_db.session, now=utcnow() - timedelta(hours=1)) == 0
        assert purge_expired_keys(_db.session) == 2
        _db.session.commit()
    assert _keys(app) == []


def test_purge_task(app):
    from checkie.checkout.tasks import purge_idempotency_keys

    call(app, FakeView())
    with app.app_context():
        _db.session.execute(sa.update(IdempotencyKey).values(expires_at=utcnow() - timedelta(minutes=1)))
        _db.session.commit()
        assert purge_idempotency_keys.call_local() == 1


def test_bad_keys_are_400(app):
    view = FakeView()
    for key in ["x" * 256, "   ", "a\tb"]:
        response = call(app, view, key=key)
        assert response.status_code == 400
    assert view.runs == 0


def test_run_idempotent_directly(app):
    runs = []

    def work():
        runs.append(1)
        return jsonify({"ok": True}), 200

    with app.test_request_context("/api/widget/sessions/cs_1/pay", method="POST", data=b'{"a":1}'):
        fingerprint = current_fingerprint()
        assert fingerprint == request_fingerprint("POST", "/api/widget/sessions/cs_1/pay", b'{"a":1}')
        assert run_idempotent("widget:cs_1", None, fingerprint, work).status_code == 200
        first = run_idempotent("widget:cs_1", "k", fingerprint, work)
        again = run_idempotent("widget:cs_1", "k", fingerprint, work)
    assert len(runs) == 2 and json.loads(again.get_data()) == {"ok": True} and first.status_code == 200


class WritingView(FakeView):
    """Writes a row (an email in the outbox) in the request's transaction, never committing."""

    def __call__(self, store_id: int = 1):
        from checkie.notifications.models import EmailMessage

        _db.session.add(EmailMessage(kind="test", to_address="a@example.com", subject=f"run {self.runs + 1}",
                                     text_body="", html_body=""))
        _db.session.flush()
        return super().__call__(store_id)


def _emails(app) -> int:
    from checkie.notifications.models import EmailMessage

    with app.app_context():
        return _db.session.scalar(sa.select(sa.func.count()).select_from(EmailMessage))


def test_the_work_commits_with_its_stored_answer_and_a_failure_undoes_both(app):
    assert call(app, WritingView(status=503)).status_code == 503
    with pytest.raises(RuntimeError):
        call(app, WritingView(error=RuntimeError("boom")))
    assert _emails(app) == 0 and _keys(app) == []
    view = WritingView()
    assert call(app, view).status_code == 201
    assert call(app, view).headers["Idempotent-Replayed"] == "true"
    assert _emails(app) == 1 and _keys(app) == [("key-1", 201)] and view.runs == 1
    assert call(app, WritingView(), key=None).status_code == 201  # no key: committed all the same
    assert _emails(app) == 2


def test_a_key_whose_request_died_before_answering_is_run_by_the_retry(app):
    """A process that dies mid-request leaves the row without an answer and, its transaction
    gone, without a lock: the retry must run the view, not answer 409 for a day."""
    view = FakeView()
    call(app, view)
    with app.app_context():
        _db.session.execute(sa.update(IdempotencyKey).values(response_status=None, response_body=None))
        _db.session.commit()
    retry = call(app, view)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert view.runs == 2 and _keys(app) == [("key-1", 201)]


def test_a_key_whose_row_another_transaction_holds_is_409(app):
    view = FakeView()
    call(app, view)
    with app.app_context():
        _db.session.execute(sa.update(IdempotencyKey).values(response_status=None, response_body=None))
        _db.session.commit()
        with _db.engine.connect() as holder:  # a request still running the view holds the row
            holder.execute(sa.select(IdempotencyKey.id).with_for_update())
            answer = call(app, view)
            holder.rollback()
    assert answer.status_code == 409 and view.runs == 1


def test_a_key_whose_advisory_lock_another_transaction_holds_is_409(app):
    """A request running the view holds its key's advisory lock, its row not committed (so not
    visible) yet: a concurrent request answers 409 at once, and runs once the lock is free."""
    from checkie.checkout.idempotency import advisory_key

    view = FakeView()
    with app.app_context(), _db.engine.connect() as holder:
        holder.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_key("store:1", "key-1"))))
        answer = call(app, view)
        assert call(app, view, key="key-2").status_code == 201  # another key is not held up
        holder.rollback()
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "idempotency_key_in_flight"
    assert call(app, view).status_code == 201 and view.runs == 2


def test_the_key_row_commits_with_the_work_only(app):
    """Its request's own transaction inserts the row: until it commits nobody sees it, and a
    failure leaves no row behind."""
    view = FakeView()
    view.proceed = threading.Event()
    first = threading.Thread(target=lambda: call(app, view))
    first.start()
    try:
        assert view.started.wait(10)
        assert _keys(app) == []  # in flight: inserted, not committed
    finally:
        view.proceed.set()
        first.join()
    assert _keys(app) == [("key-1", 201)]
