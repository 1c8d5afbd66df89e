"""Fixtures of the webhook tests: a local receiver, and endpoints of the `store` fixture."""
from __future__ import annotations

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()
