"""`Idempotency-Key` for JSON views (SPEC §6.6): a retried request does its work once.

- No header: the view runs normally.
- First request with a key: a row (scope, key, fingerprint) is inserted and committed at once
  (one autocommitted statement on a connection of its own), so concurrent requests see it.
- The request that runs the view holds that row's lock (SELECT … FOR UPDATE NOWAIT) in the
  view's own transaction, and the response is stored on the row in that same transaction:
  the work and its stored answer commit together, or neither does.
- Same key, same fingerprint (method, path with query, SHA-256 of the body), response stored:
  the stored response is replayed with `Idempotent-Replayed: true`; the view does not run.
- Same key, another fingerprint: 422 `idempotency_key_reused`.
- Same key while the row is locked (its request still runs): 409 `idempotency_key_in_flight`.
  A row with no response and no lock belongs to a request whose process died before its
  commit (the database rolled its work back and released the lock): the retry runs the view.
  SQLite has no row locks, so there only the request that inserted the row runs it; a key
  left behind by a dead process answers 409 until it expires.
- A 5xx answer or an exception (typed errors included) is not stored: the view's work is
  rolled back and the row deleted (unless a retry has answered it since), so a retry runs again.
- Keys live 24 hours; an expired key counts as absent and a periodic task purges them.

Views run through it do their work in `db.session` and do not commit: it commits once, with
the response stored.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, jsonify, make_response, request
from sqlalchemy.orm import Session

from checkie.checkout.models import IdempotencyKey
from checkie.database import dialect_insert, utcnow
from checkie.extensions import db

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_TTL = timedelta(hours=24)
KEY_MAX_LENGTH = 255
SCOPE_MAX_LENGTH = 100
_table = IdempotencyKey.__table__


def request_fingerprint(method_or_request, path: str | None = None, body: bytes = b"") -> str:
    """SHA-256 over the method, the path (with its query) and a hash of the body. Give either
    (method, path, body) or a Flask request object."""
    if not isinstance(method_or_request, str):
        req = method_or_request
        path = req.full_path.rstrip("?") if req.query_string else req.path
        method_or_request, body = req.method, req.get_data(cache=True)
    digest = hashlib.sha256()
    for part in (method_or_request.upper().encode(), (path or "").encode(), hashlib.sha256(body).hexdigest().encode()):
        digest.update(part + b"\n")
    return digest.hexdigest()


def current_fingerprint() -> str:
    return request_fingerprint(request)


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def run_idempotent(scope: str, key: str | None, fingerprint: str, fn: Callable[[], object]) -> Response:
    """Run `fn` (a view body returning anything Flask accepts, doing its work in `db.session`
    without committing) at most once per (scope, key), and commit its work. A 5xx answer or an
    exception rolls the work back."""
    if key is None:
        return run_and_commit(fn)
    key = key.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        return _error(400, "bad_request", f"{HEADER} must be 1–{KEY_MAX_LENGTH} printable characters.")
    scope = scope[:SCOPE_MAX_LENGTH]
    where = sa.and_(_table.c.scope == scope, _table.c.key == key)
    for _ in range(3):  # a row deleted between our insert and our read: try again
        claimed, stored = _claim(scope, key, fingerprint)
        if not claimed:
            if stored is None:
                continue
            if _live(stored) and (stored.response_status is not None or stored.request_hash != fingerprint):
                return _answer_for(stored, fingerprint)  # no lock needed: a stored answer never changes
        held = _lock(where)
        if held is _LOCKED:
            return _in_flight()
        if held is None:
            db.session.rollback()
            continue
        if not _live(held):
            claimed = _take_over(where, fingerprint)  # an expired key counts as absent
        elif held.response_status is not None or held.request_hash != fingerprint:
            db.session.rollback()
            return _answer_for(held, fingerprint)
        if not claimed and not _locks_rows():
            db.session.rollback()  # SQLite: the row's own request may still be running it
            return _in_flight()
        return _run_and_store(where, fn)
    return _in_flight()


def _live(row) -> bool:
    return row.expires_at > utcnow()


def _take_over(where, fingerprint: str) -> bool:
    """Make an expired key this request's, in its transaction (under the row's lock on
    PostgreSQL; on SQLite the expiry condition keeps a second taker out)."""
    now = utcnow()
    taken = db.session.execute(
        _table.update().where(where, _table.c.expires_at <= now).values(
            request_hash=fingerprint, created_at=now, expires_at=now + KEY_TTL, response_status=None,
            response_body=None,
        )
    )
    return taken.rowcount == 1


def _answer_for(stored, fingerprint: str) -> Response:
    """For a key another request used: 422 for another request, else its stored response."""
    if stored.request_hash != fingerprint:
        return _error(422, "idempotency_key_reused", f"This {HEADER} was already used with a different request.")
    return _replay(stored)


def _in_flight() -> Response:
    return _error(409, "idempotency_key_in_flight",
                  f"A request with this {HEADER} is still being processed. Retry later.")


#: `_lock`'s answer when another transaction holds the row.
_LOCKED = object()
_LOCK_NOT_AVAILABLE = "55P03"


def _lock(where):
    """The key row, locked in `db.session`'s transaction without waiting: the row, None when it
    is gone, or _LOCKED when another request holds it (that request is running the view)."""
    try:
        return db.session.execute(sa.select(_table).where(where).with_for_update(nowait=True)).first()
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        db.session.rollback()
        return _LOCKED


def _locks_rows() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _claim(scope: str, key: str, fingerprint: str) -> tuple[bool, sa.Row | None]:
    """Insert the key row, committed at once (INSERT … ON CONFLICT DO NOTHING: it never waits
    for a request that holds an existing row). (True, None) when this request inserted it;
    (False, row) when the key exists (row None: it vanished meanwhile)."""
    now = utcnow()
    with _autocommit() as conn:
        insert = dialect_insert(conn)(_table).values(
            scope=scope, key=key, request_hash=fingerprint, created_at=now, expires_at=now + KEY_TTL
        )
        if conn.execute(insert.on_conflict_do_nothing(index_elements=["scope", "key"]).returning(_table.c.id)).first():
            return True, None
        row = conn.execute(sa.select(_table).where(_table.c.scope == scope, _table.c.key == key)).first()
        return False, row


def _autocommit() -> sa.Connection:
    """A connection of its own whose every statement commits by itself: key rows must be seen
    by concurrent requests at once, and need no BEGIN/COMMIT round trips around one statement."""
    return db.engine.execution_options(isolation_level="AUTOCOMMIT").connect()


def run_and_commit(fn: Callable[[], object]) -> Response:
    """A request without a key: run the view and commit its work (roll it back on a 5xx or an
    exception)."""
    try:
        response = make_response(fn())
    except BaseException:
        db.session.rollback()
        raise
    if response.status_code >= 500:
        db.session.rollback()
    else:
        db.session.commit()
    return response


def _run_and_store(where, fn: Callable[[], object]) -> Response:
    """Run the view under the key row's lock; store its response on the row and commit both, or
    undo its work and forget the key when it fails."""
    try:
        response = make_response(fn())
    except BaseException:
        _forget(where)
        raise
    if response.status_code >= 500:
        _forget(where)
        return response
    db.session.execute(_table.update().where(where).values(
        response_status=response.status_code, response_body=response.get_data(as_text=True)
    ))
    db.session.commit()
    return response


def _forget(where) -> None:
    """Roll the view's work back (which releases the row), then delete the row unless it has an
    answer: a retry that took it over meanwhile holds its lock, so this waits for that request
    and leaves its answer alone."""
    db.session.rollback()
    db.session.execute(_table.delete().where(where, _table.c.response_status.is_(None)))
    db.session.commit()


def _replay(stored) -> Response:
    response = make_response(stored.response_body or "", stored.response_status)
    response.mimetype = "application/json"
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(scope: str | Callable[..., str]):
    """View decorator: `@idempotent("refunds")` or `@idempotent(lambda store_id, **kw: f"store:{store_id}")`
    — a callable gets the view's keyword arguments. Requests without the header run normally.
    The view does not commit: this does, once (see the module's docstring). Put it inside the authentication decorators (it should only see authorised requests)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            def run():
                return view(*args, **kwargs)

            key = request.headers.get(HEADER)
            if key is None:
                return run_and_commit(run)
            name = scope(**kwargs) if callable(scope) else scope
            return run_idempotent(name, key, current_fingerprint(), run)

        return wrapper

    return decorator


#: The name the issue brief uses.
with_idempotency = idempotent


def purge_expired_keys(session: Session, *, now: datetime | None = None) -> int:
    """Delete keys past their 24 hours; returns how many."""
    result = session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return result.rowcount or 0
