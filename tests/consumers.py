"""Real Huey consumers for the few integration tests that need one (SPEC §8: Huey on Redis
drops a task whose consumer dies, so these tests kill one and check nothing is lost)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checkie.extensions import PROJECT_ROOT, huey


@pytest.fixture
def huey_on_redis():
    """The shared Huey, out of immediate mode: tasks go to Redis under this run's HUEY_NAME."""
    huey.immediate = False
    huey.flush()
    try:
        yield huey
    finally:
        huey.flush()
        huey.immediate = True


def start_consumer(*, workers: int = 1, **env_overrides: str) -> subprocess.Popen:
    """`huey_consumer checkie.worker.huey` in a process of its own, with this run's environment
    (less HUEY_IMMEDIATE, so it takes tasks from Redis) and `env_overrides`."""
    env = {k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}
    env.update(env_overrides)
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "huey_consumer"), "checkie.worker.huey",
         "--workers", str(workers), "--worker-type", "thread"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
