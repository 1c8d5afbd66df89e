"""Killing a real Huey consumer mid-run loses no 3-D Secure outcome (issue 8).

Shoppers complete 3DS over HTTP; the outcome events go to Redis, and a real `huey_consumer` posts
them over HTTP to the app served on a loopback port. The intake is held shut, so every worker is
in the middle of a post when the consumer is killed with SIGKILL: those tasks are gone from Redis
for good. A fresh consumer and its sweeper must still complete every session, once."""
from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.extensions import PROJECT_ROOT
from checkie.payments.initiation import initiate_payment
from checkie.payments.models import EventDeliveryStatus, Payment, PaymentAttempt, TestProviderEvent
from checkie.payments.test_provider import sweep_test_provider_events
from checkie.providers.test import THREE_D_SECURE, WEBHOOK_PATH
from tests.consumers import start_consumer
from tests.factories import make_page, open_checkout
from tests.http import csrf_token_from

SHOPPERS = 30
WORKERS = 4
FIGURES = PROJECT_ROOT / "build" / "kill-the-consumer.json"


class IntakeGate:
    """WSGI middleware before the served app. While shut, the test provider's posts are held, so
    the consumer that sent them waits; once opened, the held ones are answered 503 and never
    applied (their sender is dead by then), and later posts pass through."""

    def __init__(self, app):
        self.app = app
        self.opened = threading.Event()
        self.held = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == WEBHOOK_PATH and not self.opened.is_set():
            with self._lock:
                self.held += 1
            self.opened.wait(timeout=60)
            start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "text/plain")])
            return [b"the intake was shut"]
        return self.app(environ, start_response)


@pytest.fixture
def gate(app):
    gate = IntakeGate(app)
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="intake", daemon=True)
    thread.start()
    gate.url = f"http://127.0.0.1:{server.server_port}"
    yield gate
    gate.opened.set()
    server.shutdown()
    thread.join(timeout=10)


def start_intake_consumer(app_url: str):
    # CHECKIE_ENV=development: the consumer posts over the network to APP_URL as a deployment
    # does (under `test` it would call the intake in its own process).
    return start_consumer(workers=WORKERS, CHECKIE_ENV="development", APP_URL=app_url)


def wait_until(condition, *, seconds: float) -> bool:
    """Whether `condition` became true within `seconds` (polled, no fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def awaiting_3ds(db, store, count: int) -> list[PaymentAttempt]:
    """`count` shoppers who paid with the 3DS card; their sessions wait for authentication."""
    page = make_page(db, store, title="Poster", publish=True)
    db.commit()
    attempts = []
    for n in range(count):
        checkout = open_checkout(db, page, email=f"shopper{n}@example.com")
        attempts.append(initiate_payment(db, checkout, payment_method=THREE_D_SECURE))
        db.commit()
    return attempts


def complete_3ds(client, attempt: PaymentAttempt) -> None:
    url = f"/test-provider/3ds/{attempt.action_token}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "outcome": "complete"}).status_code == 303


def unlocked_pending(db) -> bool:
    """Whether no pending event row is locked (by a claim of a consumer that is gone)."""
    pending = sa.select(TestProviderEvent.id).where(TestProviderEvent.status == EventDeliveryStatus.PENDING)
    try:
        return len(db.scalars(pending).all()) == len(db.scalars(pending.with_for_update(skip_locked=True)).all())
    finally:
        db.rollback()


def states(db, session_ids: list[str]) -> dict[str, CheckoutState]:
    db.expire_all()
    rows = db.execute(sa.select(CheckoutSession.id, CheckoutSession.state).where(CheckoutSession.id.in_(session_ids)))
    return dict(rows.all())


def test_killing_the_consumer_after_3ds_loses_no_payment(app, db, store, client, gate, huey_on_redis):
    huey_on_redis.immediate = True  # the set-up's own events are posted in this process
    attempts = awaiting_3ds(db, store, SHOPPERS)
    session_ids = [attempt.session_id for attempt in attempts]
    huey_on_redis.immediate = False
    assert set(states(db, session_ids).values()) == {CheckoutState.AWAITING_ACTION}

    first = start_intake_consumer(gate.url)
    try:
        for attempt in attempts:
            complete_3ds(client, attempt)
        # Every worker is inside a post to the shut intake: SIGKILL now loses those tasks.
        assert wait_until(lambda: gate.held == WORKERS, seconds=20), f"{gate.held} posts in flight, not {WORKERS}"
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    in_flight = gate.held
    gate.opened.set()  # the held posts end unapplied
    # PostgreSQL ends the dead consumer's transactions when it notices their sockets closed;
    # until then its rows stay locked and a sweep would (rightly) skip them.
    assert wait_until(lambda: unlocked_pending(db), seconds=20), "the killed consumer's row locks were never released"

    second = start_intake_consumer(gate.url)
    try:
        # The consumer runs its periodic sweeper when it starts, then every minute; enqueue it
        # as well so the test does not depend on that.
        sweep_test_provider_events()
        wait_until(lambda: set(states(db, session_ids).values()) == {CheckoutState.COMPLETED}
                   or second.poll() is not None, seconds=30)
    finally:
        second.send_signal(signal.SIGINT)
        output, _ = second.communicate(timeout=10)

    final = states(db, session_ids)
    payments = dict(db.execute(
        sa.select(Payment.session_id, sa.func.count()).where(Payment.session_id.in_(session_ids)).group_by(Payment.session_id)
    ).all())
    lost = sum(1 for sid in session_ids if final[sid] is not CheckoutState.COMPLETED or payments.get(sid, 0) == 0)
    figures = {"sessions": SHOPPERS, "in_flight_at_kill": in_flight, "completed": list(final.values()).count(CheckoutState.COMPLETED),
               "payments": sum(payments.values()), "lost": lost}
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(figures) + "\n")
    print("kill-the-consumer:", figures)

    assert in_flight == WORKERS
    assert lost == 0, (figures, output[-3000:])
    assert all(payments[sid] == 1 for sid in session_ids), figures
    assert figures["payments"] == SHOPPERS
    undelivered = db.scalar(sa.select(sa.func.count()).select_from(TestProviderEvent)
                            .where(TestProviderEvent.status != EventDeliveryStatus.DELIVERED))
    assert undelivered == 0
