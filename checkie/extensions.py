"""Extension singletons, bound to the app in create_app() with init_app()."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import flask_limiter
from flask import Flask, Response, current_app, request
from flask_limiter.util import get_qualified_name, get_remote_address
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
    even read them across origins. Only a refused request reads its window, for `Retry-After`.

    Checkie limits chosen views only (decorators), so most requests (the checkout pages, PSP
    webhooks, the dashboard) have no limit; yet Flask-Limiter resolves exemptions and blueprint
    limits for each of them (≈0.1–0.17 ms CPU). A request filter skips that for a view no limit
    can apply to: no limit decorates it, its blueprints carry none, no limited function has been
    called in it (Flask-Limiter records those before it checks them), and no default,
    application or meta limits are configured (with any of those, nothing is skipped)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request_filter(self._nothing_limits_this_view)

    def _nothing_limits_this_view(self) -> bool:
        endpoint = request.endpoint or ""
        limited = self._limited_endpoints(current_app)
        return limited is not None and endpoint not in limited and not self.limit_manager.has_hints(endpoint)

    def _limited_endpoints(self, app: Flask) -> frozenset[str] | None:
        """The endpoints of `app` a limit is declared on, worked out once per app (routes are
        fixed once it serves); None when limits may apply to every endpoint."""
        if _LIMITED_ENDPOINTS not in app.extensions:
            broad = self.limit_manager.default_limits or self.limit_manager.application_limits or app.config.get("RATELIMIT_META")
            app.extensions[_LIMITED_ENDPOINTS] = None if broad else frozenset(
                endpoint for endpoint, view in app.view_functions.items() if self._declares_limits(app, endpoint, view)
            )
        return app.extensions[_LIMITED_ENDPOINTS]

    def _declares_limits(self, app: Flask, endpoint: str, view) -> bool:
        blueprint = endpoint.rpartition(".")[0]
        return bool(self.limit_manager.decorated_limits(get_qualified_name(view))
                    or (blueprint and self.limit_manager.blueprint_limits(app, blueprint)))

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


_LIMITED_ENDPOINTS = "checkie.limited_endpoints"

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
