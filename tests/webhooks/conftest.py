"""Fixtures of the webhook tests: a local receiver, and a clock the delivery engine reads."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkie.webhooks import delivery
from tests.webhooks.receiver import Receiver


class Clock:
    """The delivery engine's "now", moved forward by the test (the real time plus `offset`), so
    retries and leases fall due without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    monkeypatch.setattr(delivery, "utcnow", moved.now)
    return moved
