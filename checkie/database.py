"""Column types and helpers shared by every domain's models."""
from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.types import TypeDecorator

#: Primary keys: BIGINT on PostgreSQL, INTEGER on SQLite (the only type it auto-increments).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Ids are BIGINT: a larger number from a URL or a body names nothing and must not reach PostgreSQL.
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(bind: Session | sa.Connection):
    """The INSERT construct of the database behind `bind` (a session or a connection), for
    `ON CONFLICT …`: PostgreSQL's in production, SQLite's in the embedded profile."""
    dialect = bind.dialect if isinstance(bind, sa.Connection) else bind.get_bind().dialect
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def rows_changed(result: sa.Result) -> int:
    """How many rows an UPDATE or DELETE matched (0 when the driver cannot tell). Session.execute
    returns a CursorResult for those statements, but SQLAlchemy types it as a plain Result."""
    return cast(sa.CursorResult, result).rowcount or 0


def innermost_transaction(session: Session) -> SessionTransaction | None:
    """The savepoint or transaction work done now belongs to (None before the session begins)."""
    return session.get_nested_transaction() or session.get_transaction()


def undone_by(marker: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    """Whether rolling back `rolled_back` undoes what was done in `marker`: it is that
    transaction or one nested inside it. For things remembered beside a transaction (tasks to
    enqueue after commit, locks held) that must be forgotten with a savepoint."""
    while marker is not None:
        if marker is rolled_back:
            return True
        marker = marker.parent
    return False


def read_only(session: Session) -> None:
    """Run this request's statements without a transaction (autocommit): for views that only
    read, and whose reads need not see one snapshot. It spares the BEGIN and the ROLLBACK round
    trips around them, half of what a shopper's polling or page view costs the database. Call
    it before the first query; the connection goes back to the pool in its usual mode. A view
    that writes must never call it: every statement would commit on its own."""
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite drops the offset otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTCDateTime column")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def str_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A string column with a CHECK constraint, not a native PostgreSQL enum (STYLE)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def render_migration_type(type_, obj, autogen_context):
    """Alembic autogenerate hook: write UTCDateTime as a plain timezone-aware DateTime, so
    migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
