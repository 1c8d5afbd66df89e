"""Extension singletons, bound to the app in create_app() with init_app()."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import flask_limiter
from flask import Flask, Response
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from huey import RedisHuey, SqliteHuey
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase, Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> str:
    return os.environ.get("CHECKIE_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model here maps one Table (DeclarativeBase allows any FromClause).
        __table__: ClassVar[Table]

    # Stable constraint names so Alembic migrations are identical on PostgreSQL and SQLite.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


if TYPE_CHECKING:
    class ScopedSession(Session):
        """What `db.session` is to the code: Flask-SQLAlchemy's scoped_session forwards every Session
        method to the current context's session (so services take a `Session`); calling it gives
        that session, and remove() ends it."""

        def __call__(self) -> Session: ...

        def remove(self) -> None: ...

    class _SQLAlchemy(SQLAlchemy):
        session: ScopedSession  # type: ignore[assignment]
else:
    _SQLAlchemy = SQLAlchemy

db = _SQLAlchemy(model_class=Base)

# The base of every model. Flask-SQLAlchemy builds db.Model at run time from Base (adding `query`
# and table names), out of mypy's sight; the type checker sees Base, whose mapping it understands.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, whose refusals say when to retry without its X-RateLimit-* headers: those
    cost two more Redis round trips (GET and TTL) on every limited request, and browsers may not
    even read them across origins. Only a refused request reads its window, for `Retry-After`."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.after_request(self._say_when_to_retry)

    def _say_when_to_retry(self, response: Response) -> Response:
        limit = self.current_limit
        if response.status_code != 429 or limit is None or not limit.breached:
            return response
        try:
            response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
        except Exception:  # the storage failed between the refusal and now: no hint, but still a 429
            self.logger.exception("Reading the rate limit's window for Retry-After failed")
        return response


limiter = Limiter(key_func=get_remote_address)


def _build_huey():
    """Huey is configured from the environment at import time, because the consumer imports
    `checkie.worker.huey` before any app exists. Redis when REDIS_URL is set, else SQLite."""
    immediate = os.environ.get("HUEY_IMMEDIATE", "").lower() in {"1", "true", "yes", "on"}
    name = os.environ.get("HUEY_NAME", "checkie")
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey(name, url=redis_url, immediate=immediate, utc=True)
    os.makedirs(instance_path(), exist_ok=True)
    return SqliteHuey(name, filename=os.path.join(instance_path(), "huey.db"), immediate=immediate, utc=True)


huey = _build_huey()
