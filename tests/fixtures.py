"""The suite's shared fixtures (a plugin of tests/conftest.py): an owner and their store, built
by tests/factories.py and committed."""
from __future__ import annotations

import pytest

from tests.factories import make_store, make_user


@pytest.fixture
def user(db):
    user = make_user(db, email="owner@example.com", name="Olive Owner")
    db.commit()
    return user


@pytest.fixture
def store(db, user):
    store = make_store(db, owner=user, name="Acme Goods", slug="acme")
    db.commit()
    return store
