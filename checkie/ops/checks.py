"""Readiness checks: can this process reach what it needs to serve requests?"""
from __future__ import annotations

import logging

import redis
import sqlalchemy as sa

log = logging.getLogger("checkie.ops")

#: Seconds a probe may wait: a readiness probe that hangs is as bad as one that fails.
TIMEOUT_SECONDS = 2


def check_database(engine: sa.Engine) -> bool:
    """SELECT 1 on a pooled connection (connect timeout set in the engine options)."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {TIMEOUT_SECONDS * 1000}")
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log only
        log.warning("readiness: database unreachable: %s", exc)
        return False
    return True


def check_redis(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError) as exc:
        log.warning("readiness: redis unreachable: %s", exc)
        return False
    finally:
        client.close()
