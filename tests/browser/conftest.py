"""Browser tests: the session `app` served on a real port, driven by Debian's Chromium
(tests/browser/chromium.py).

Each test gets fresh browser contexts (no shared cookies); when a test fails, a screenshot of
every page it opened lands in build/screenshots/.
"""
from __future__ import annotations

import pytest

from tests.browser.chromium import browser, browser_session, live_server, new_page, page  # noqa: F401  (fixtures)
from tests.browser.host_site import host_sites_fixture  # noqa: F401  (the `host_sites` fixture)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
