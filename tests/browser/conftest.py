"""Browser tests: the session `app` served on a real port, driven by Debian's Chromium
(tests/browser/chromium.py).

Each test gets fresh browser contexts (no shared cookies); when a test fails, a screenshot of
every page it opened lands in build/screenshots/.
"""
from __future__ import annotations

import pytest

from tests.factories import make_coupon, make_shop, make_store, make_user
from tests.browser.chromium import browser, browser_session, live_server, new_page, page  # noqa: F401  (fixtures)
from tests.browser.host_site import host_sites_fixture  # noqa: F401  (the `host_sites` fixture)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def shop_page(db):
    """Paper Crane's published T-shirt (tests.factories.make_shop) with the coupon SAVE10 (10 %
    off); the store's owner, lea@papercrane.example, can log in."""
    store = make_store(db, owner=make_user(db, email="lea@papercrane.example", verified=True),
                       name="Paper Crane", slug="paper-crane")
    page = make_shop(db, store).page
    make_coupon(db, store)
    db.commit()
    return page
