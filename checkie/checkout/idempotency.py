"""Idempotency keys (SPEC §6.6): the stored rows and their locks. The HTTP side — the
`Idempotency-Key` header, replayed responses, the view decorator — is api.idempotency.

On PostgreSQL the request's own transaction claims the key in one statement
(`claim_in_transaction`): a transaction-level advisory lock on a 64-bit hash of (scope, key),
taken without waiting, and the key row (scope, key, fingerprint of the request) inserted
under it. A concurrent request with the key finds the advisory lock taken and answers 409 at
once, without waiting for or needing to see the uncommitted row; the row commits with the work
and its stored answer, or, when the request fails or its process dies, vanishes with them and
the lock (so a retry runs the work). A key row that exists already (committed with its answer,
expired, or left unanswered by a request of the older protocol below) is locked with
SELECT … FOR UPDATE NOWAIT before it is used, as before.

SQLite has neither advisory nor row locks: there the row is inserted and committed at once, on a
connection of its own (`claim`), so concurrent requests see it. Keys live 24 hours; an expired
key counts as absent and a periodic task purges them.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.checkout.models import IdempotencyKey
from checkie.database import dialect_insert, rows_changed, utcnow
from checkie.extensions import db

KEY_TTL = timedelta(hours=24)
KEY_MAX_LENGTH = 255
SCOPE_MAX_LENGTH = 100
_table = IdempotencyKey.__table__


def request_fingerprint(method: str, path: str, body: bytes = b"") -> str:
    """SHA-256 over the method, the path (with its query) and a hash of the body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), hashlib.sha256(body).hexdigest().encode()):
        digest.update(part + b"\n")
    return digest.hexdigest()


def key_where(scope: str, key: str):
    """The WHERE clause naming one key row."""
    return sa.and_(_table.c.scope == scope, _table.c.key == key)


def is_live(row) -> bool:
    return row.expires_at > utcnow()


def take_over(where, fingerprint: str) -> bool:
    """Make an expired key this request's, in its transaction (under the row's lock on
    PostgreSQL; on SQLite the expiry condition keeps a second taker out)."""
    now = utcnow()
    taken = db.session.execute(
        _table.update().where(where, _table.c.expires_at <= now).values(
            request_hash=fingerprint, created_at=now, expires_at=now + KEY_TTL, response_status=None,
            response_body=None,
        )
    )
    return rows_changed(taken) == 1


#: `lock`'s answer when another transaction holds the row.
LOCKED = object()
_LOCK_NOT_AVAILABLE = "55P03"


def lock(where):
    """The key row, locked in `db.session`'s transaction without waiting: the row, None when it
    is gone, or LOCKED when another request holds it (that request is running the view)."""
    try:
        return db.session.execute(sa.select(_table).where(where).with_for_update(nowait=True)).first()
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        db.session.rollback()
        return LOCKED


def locks_rows() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


#: `claim_in_transaction`'s answers besides LOCKED.
CLAIMED = object()
EXISTS = object()


def advisory_key(scope: str, key: str) -> int:
    """The 64-bit advisory lock id of a key (signed, as PostgreSQL's bigint). Idempotency keys
    are the only advisory locks Checkie takes; two keys sharing a hash (1 in 2**64) would only
    answer 409 to each other while both are in flight."""
    digest = hashlib.blake2b(f"{scope}\n{key}".encode(), digest_size=8, person=b"idempotency").digest()
    return int.from_bytes(digest, "big", signed=True)


def claim_in_transaction(scope: str, key: str, fingerprint: str):
    """PostgreSQL: in `db.session`'s transaction, take the key's advisory lock without waiting
    and, holding it, insert the key row (ON CONFLICT DO NOTHING: an existing row is committed,
    since its request held the lock until it ended, so the insert never waits). One statement.
    LOCKED when another request holds the lock (it is running the work), CLAIMED when the row
    is this transaction's, EXISTS when a committed row has the key (see `lock`)."""
    now = utcnow()
    advisory = sa.select(sa.func.pg_try_advisory_xact_lock(advisory_key(scope, key)).label("held")).cte("advisory")
    held = sa.select(advisory.c.held).scalar_subquery()
    row = sa.select(
        sa.literal(scope, sa.String), sa.literal(key, sa.String), sa.literal(fingerprint, sa.String),
        sa.literal(now, _table.c.created_at.type), sa.literal(now + KEY_TTL, _table.c.expires_at.type),
    ).where(held)
    inserted = (
        dialect_insert(db.session)(_table)
        .from_select(["scope", "key", "request_hash", "created_at", "expires_at"], row)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(_table.c.id)
        .cte("inserted")
    )
    got_lock, row_id = db.session.execute(sa.select(held, sa.select(inserted.c.id).scalar_subquery())).one()
    if not got_lock:
        db.session.rollback()
        return LOCKED
    return CLAIMED if row_id is not None else EXISTS


def claim(scope: str, key: str, fingerprint: str) -> tuple[bool, sa.Row | None]:
    """SQLite: insert the key row, committed at once (INSERT … ON CONFLICT DO NOTHING: it never
    waits for a request that holds an existing row). (True, None) when this request inserted it;
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


def store_response(where, status: int, body: str) -> None:
    """Keep the answer on the key row, in the transaction that did the work."""
    db.session.execute(_table.update().where(where).values(response_status=status, response_body=body))


def delete_unanswered(where) -> None:
    """Delete the key row unless a request has answered it: a retry that took it over holds
    its lock, so this waits for that request and leaves its answer alone."""
    db.session.execute(_table.delete().where(where, _table.c.response_status.is_(None)))


def purge_expired_keys(session: Session, *, now: datetime | None = None) -> int:
    """Delete keys past their 24 hours; returns how many."""
    result = session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return rows_changed(result)
