"""`Idempotency-Key` for JSON views (SPEC §6.6): a retried request does its work once. The key
rows and their locks are the domain's (checkout.idempotency); this is their HTTP side.

- No header: the view runs normally.
- First request with a key (PostgreSQL): the view's own transaction claims it in one statement
  — the key's advisory lock, taken without waiting, and its row (scope, key, fingerprint)
  inserted — and the response is stored on the row in that same transaction: the work and its
  stored answer commit together, or neither does (nor the row). No second connection, no
  separate commit for the key.
- Same key, same fingerprint (method, path with query, SHA-256 of the body), response stored:
  the stored response is replayed with `Idempotent-Replayed: true`; the view does not run.
- Same key, another fingerprint: 422 `idempotency_key_reused` (while the first request still
  runs, its row is not visible yet: 409 as below).
- Same key while its request still runs (the advisory lock, or an existing row's lock, is
  held): 409 `idempotency_key_in_flight`. A committed row with no response and no lock was
  left by a request whose process died before its commit under the older protocol (its row
  committed on its own): the retry runs the view. On SQLite (no locks) the row is inserted
  and committed at once on a connection of its own, so there only the request that inserted
  the row runs it; a key left behind by a dead process answers 409 until it expires.
- A 5xx answer or an exception (typed errors included) is not stored: the view's work is
  rolled back and the row deleted (unless a retry has answered it since), so a retry runs again.
- Keys live 24 hours; an expired key counts as absent and a periodic task purges them.

Views run through it do their work in `db.session` and do not commit: it commits once, with
the response stored.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Response, jsonify, make_response, request

from checkie.checkout import idempotency as keys
from checkie.extensions import db

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def current_fingerprint() -> str:
    """The fingerprint of the request being served: its method, path with query, and body."""
    path = request.full_path.rstrip("?") if request.query_string else request.path
    return keys.request_fingerprint(request.method, path, request.get_data(cache=True))


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
    if not key or len(key) > keys.KEY_MAX_LENGTH or not key.isprintable():
        return _error(400, "bad_request", f"{HEADER} must be 1–{keys.KEY_MAX_LENGTH} printable characters.")
    scope = scope[:keys.SCOPE_MAX_LENGTH]
    where = keys.key_where(scope, key)
    if keys.locks_rows():
        return _run_claimed_in_transaction(scope, key, fingerprint, where, fn)
    return _run_claimed_on_own_connection(scope, key, fingerprint, where, fn)


def _run_claimed_on_own_connection(scope: str, key: str, fingerprint: str, where, fn: Callable[[], object]) -> Response:
    """SQLite: the key row committed at once on a connection of its own, then used in the view's
    transaction (see the module's docstring)."""
    for _ in range(3):  # a row deleted between our insert and our read: try again
        claimed, stored = keys.claim(scope, key, fingerprint)
        if not claimed:
            if stored is None:
                continue
            if keys.is_live(stored) and (stored.response_status is not None or stored.request_hash != fingerprint):
                return _answer_for(stored, fingerprint)  # no lock needed: a stored answer never changes
        held = keys.lock(where)
        if held is keys.LOCKED:
            return _in_flight()
        if held is None:
            db.session.rollback()
            continue
        if not keys.is_live(held):
            claimed = keys.take_over(where, fingerprint)  # an expired key counts as absent
        elif held.response_status is not None or held.request_hash != fingerprint:
            db.session.rollback()
            return _answer_for(held, fingerprint)
        if not claimed:
            db.session.rollback()  # no row locks: the row's own request may still be running it
            return _in_flight()
        return _run_and_store(where, fn)
    return _in_flight()


def _run_claimed_in_transaction(scope: str, key: str, fingerprint: str, where, fn: Callable[[], object]) -> Response:
    """PostgreSQL: claim the key in the view's transaction and run the view, or answer for the
    key's existing row (replay, 422, 409, or run it when it is expired or was left unanswered)."""
    for _ in range(3):  # an existing row purged between our insert and our read: try again
        claimed = keys.claim_in_transaction(scope, key, fingerprint)
        if claimed is keys.LOCKED:
            return _in_flight()
        if claimed is keys.CLAIMED:
            return _run_and_store(where, fn)
        held = keys.lock(where)
        if held is keys.LOCKED:
            return _in_flight()
        if held is None:
            db.session.rollback()
            continue
        if not keys.is_live(held):
            keys.take_over(where, fingerprint)  # an expired key counts as absent
        elif held.response_status is not None or held.request_hash != fingerprint:
            db.session.rollback()
            return _answer_for(held, fingerprint)
        return _run_and_store(where, fn)
    return _in_flight()


def _answer_for(stored, fingerprint: str) -> Response:
    """For a key another request used: 422 for another request, else its stored response."""
    if stored.request_hash != fingerprint:
        return _error(422, "idempotency_key_reused", f"This {HEADER} was already used with a different request.")
    return _replay(stored)


def _in_flight() -> Response:
    return _error(409, "idempotency_key_in_flight",
                  f"A request with this {HEADER} is still being processed. Retry later.")


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
    keys.store_response(where, response.status_code, response.get_data(as_text=True))
    db.session.commit()
    return response


def _forget(where) -> None:
    """Roll the view's work back (which releases the row), then delete the row unless it has an
    answer: a retry that took it over meanwhile holds its lock, so this waits for that request
    and leaves its answer alone."""
    db.session.rollback()
    keys.delete_unanswered(where)
    db.session.commit()


def _replay(stored) -> Response:
    response = make_response(stored.response_body or "", stored.response_status)
    response.mimetype = "application/json"
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(scope: str | Callable[..., str]):
    """View decorator: `@idempotent("refunds")` or `@idempotent(lambda store_id, **kw: f"store:{store_id}")`
    — a callable gets the view's keyword arguments. Requests without the header run normally.
    The view does not commit: this does, once (see the module's docstring). Put it inside the
    authentication decorators (it should only see authorised requests)."""

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

