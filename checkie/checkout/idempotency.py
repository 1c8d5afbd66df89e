"""`Idempotency-Key` for JSON views (SPEC §6.6): a retried request does its work once.

- No header: the view runs normally.
- First request with a key: a row (scope, key, fingerprint) is inserted and committed at once
  (one autocommitted statement on a connection of its own), so concurrent requests see it;
  then the view runs and its status and body are stored on the row.
- Same key, same fingerprint (method, path with query, SHA-256 of the body), response stored:
  the stored response is replayed with `Idempotent-Replayed: true`; the view does not run.
- Same key, another fingerprint: 422 `idempotency_key_reused`.
- Same key while the first request still runs: 409 `idempotency_key_in_flight`.
- A 5xx answer or an exception (typed errors included: the view's transaction rolled back,
  nothing happened) is not stored: the row is deleted so a retry runs again. A 4xx the view
  returns itself is stored and replayed.
- Keys live 24 hours; an expired key counts as absent and a periodic task purges them.

Known limit: the response is stored in its own transaction right after the view committed;
a process that dies between the two leaves the key "in flight" until it expires (a retry then
gets 409, never a second execution).
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
from checkie.database import utcnow
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


def run_idempotent(
    session_or_none: Session | None, scope: str, key: str | None, fingerprint: str, fn: Callable[[], object]
) -> Response:
    """Run `fn` (a view body returning anything Flask accepts) at most once per (scope, key).
    The first argument is accepted for the contract's signature; key rows always go through
    connections of their own, never the caller's transaction."""
    if key is None:
        return make_response(fn())
    key = key.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        return _error(400, "bad_request", f"{HEADER} must be 1–{KEY_MAX_LENGTH} printable characters.")
    scope = scope[:SCOPE_MAX_LENGTH]
    for _ in range(3):  # a row deleted between our insert and our read: try again
        claimed, stored = _claim(scope, key, fingerprint)
        if claimed:
            return _run_and_store(scope, key, fn)
        if stored is None:
            continue
        if stored.request_hash != fingerprint:
            return _error(422, "idempotency_key_reused",
                          f"This {HEADER} was already used with a different request.")
        if stored.response_status is None:
            return _error(409, "idempotency_key_in_flight",
                          f"A request with this {HEADER} is still being processed. Retry later.")
        return _replay(stored)
    return _error(409, "idempotency_key_in_flight", f"A request with this {HEADER} is still being processed.")


def _claim(scope: str, key: str, fingerprint: str) -> tuple[bool, sa.Row | None]:
    """Insert the key row, committed at once. (True, None) when this request owns the key;
    (False, row) when another request does (row None: it vanished meanwhile).

    One statement: an absent key is inserted and an expired one (which counts as absent) is
    taken over in place (ON CONFLICT … DO UPDATE … WHERE expired); a live key is left alone and
    read. Two requests racing for a key queue on its row or its unique index, and the second
    finds the first one's live key."""
    now = utcnow()
    with _autocommit() as conn:
        insert = _insert_for(conn.dialect.name)(_table).values(
            scope=scope, key=key, request_hash=fingerprint, created_at=now, expires_at=now + KEY_TTL
        )
        claim = insert.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"request_hash": insert.excluded.request_hash, "created_at": insert.excluded.created_at,
                  "expires_at": insert.excluded.expires_at, "response_status": None, "response_body": None},
            where=_table.c.expires_at <= now,
        )
        if conn.execute(claim.returning(_table.c.id)).first() is not None:
            return True, None
        row = conn.execute(sa.select(_table).where(_table.c.scope == scope, _table.c.key == key)).first()
        return False, row


def _autocommit() -> sa.Connection:
    """A connection of its own whose every statement commits by itself: key rows must be seen
    by concurrent requests at once, and need no BEGIN/COMMIT round trips around one statement."""
    return db.engine.execution_options(isolation_level="AUTOCOMMIT").connect()


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _run_and_store(scope: str, key: str, fn: Callable[[], object]) -> Response:
    where = sa.and_(_table.c.scope == scope, _table.c.key == key)
    try:
        response = make_response(fn())
    except BaseException:
        _release(where)
        raise
    if response.status_code >= 500:
        _release(where)
        return response
    with _autocommit() as conn:
        conn.execute(_table.update().where(where).values(
            response_status=response.status_code, response_body=response.get_data(as_text=True)
        ))
    return response


def _release(where) -> None:
    """Forget the key. The request failed, so its own transaction is rolled back first (it
    would be at teardown anyway; on SQLite it would otherwise hold the write lock we need)."""
    db.session.rollback()
    with _autocommit() as conn:
        conn.execute(_table.delete().where(where))


def _replay(stored) -> Response:
    response = make_response(stored.response_body or "", stored.response_status)
    response.mimetype = "application/json"
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(scope: str | Callable[..., str]):
    """View decorator: `@idempotent("refunds")` or `@idempotent(lambda store_id, **kw: f"store:{store_id}")`
    — a callable gets the view's keyword arguments. Requests without the header run normally.
    Put it inside the authentication decorators (it should only see authorised requests)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            name = scope(**kwargs) if callable(scope) else scope
            return run_idempotent(None, name, key, current_fingerprint(), lambda: view(*args, **kwargs))

        return wrapper

    return decorator


#: The name the issue brief uses.
with_idempotency = idempotent


def purge_expired_keys(session: Session, *, now: datetime | None = None) -> int:
    """Delete keys past their 24 hours; returns how many."""
    result = session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return result.rowcount or 0
