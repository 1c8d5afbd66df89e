"""Extension singletons, bound to the app in create_app() with init_app()."""
from __future__ import annotations

import os
from pathlib import Path

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from huey import RedisHuey, SqliteHuey
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> str:
    return os.environ.get("CHECKIE_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


class Base(DeclarativeBase):
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


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
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
