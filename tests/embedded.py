"""The embedded profile `make run` uses (no DATABASE_URL, no REDIS_URL), booted in subprocesses.

This test session's own environment points at PostgreSQL and Redis, so every process here gets
a clean environment and a temporary instance folder: a SQLite database and a SQLite Huey queue."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Only what a process needs to start; deliberately no DATABASE_URL, REDIS_URL or CHECKIE_ENV.
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def embedded_env(instance: Path, **extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
    env.update(CHECKIE_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def run_flask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env)


def run_python(code: str, env: dict[str, str]) -> dict:
    """Run `code` in the embedded app; it prints one JSON object as its last line."""
    result = _run([sys.executable, "-c", textwrap.dedent(code)], env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def upgraded(instance: Path, revision: str = "head", **extra: str) -> dict[str, str]:
    """The environment of an embedded instance in `instance`, its database migrated to `revision`."""
    env = embedded_env(instance, **extra)
    run_flask("db", "upgrade", revision, env=env)
    return env


def query(instance: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(instance / "checkie.db") as conn:
        return conn.execute(sql, params).fetchall()
