"""The portal's fixtures: a store with a customer and their purchase, a real SMTP sink, and a
client signed in to the portal through a real link."""
from __future__ import annotations

import pytest

from tests.factories import make_customer, make_payment
from tests.portal.inbox import start_smtp
from tests.portal.signing import sign_in_client


@pytest.fixture
def smtp(app, monkeypatch):
    """aiosmtpd on a free port of 127.0.0.1, where the app sends its email for this test."""
    controller, inbox = start_smtp()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def customer(db, store):
    """Bea, who bought once from Acme Goods."""
    bea = make_customer(db, store, email="bea@example.com", name="Bea Buyer")
    make_payment(db, store, customer=bea, email=bea.email, amount=2500)
    db.commit()
    return bea


@pytest.fixture
def signed_in(client, db, customer):
    sign_in_client(client, db, customer)
    return client
