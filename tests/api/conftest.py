"""Fixtures of the JSON API tests."""
from __future__ import annotations

import pytest

from tests.http import access_token_for, bearer


@pytest.fixture
def auth(app, user):
    """The Authorization header of the `user` fixture's access token."""
    return bearer(access_token_for(app, user))
