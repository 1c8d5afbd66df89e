"""Debian's Chromium driven through Playwright, and the session `app` served on a real port for
it: the browser tests' constants and fixtures (tests/browser/conftest.py registers them; a test
module elsewhere that drives the browser imports them from here).

Chromium comes from the system (`/usr/bin/chromium`, installed by `.ci/run` with apt-get);
Playwright never downloads a browser. A missing Chromium is an error, never a skip."""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.factories import DEFAULT_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def log_in(page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a merchant does, and wait to be let in."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


@dataclass
class LiveServer:
    url: str

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(app):
    """The app on 127.0.0.1 and a free port, served by a threaded werkzeug server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Not per session: Playwright's sync API runs an event loop
    while it is started, and a browser test elsewhere that starts its own would then fail."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (Debian's package)", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # like the pages' own timeout: CI machines can be busy
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class BrowserSession:
    """Pages opened by one test, each in a fresh context, and what went wrong in them."""

    browser: object
    base_url: str
    pages: list = field(default_factory=list)
    #: Console errors (a CSP violation is one) and uncaught exceptions, as "url: text".
    errors: list[str] = field(default_factory=list)

    def new_page(self, viewport: dict | None = None, **context_options):
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport or DESKTOP, **context_options)
        context.set_default_timeout(10_000)
        page = context.new_page()

        def on_console(message) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        self.pages.append(page)
        return page

    def close(self) -> None:
        for page in self.pages:
            page.context.close()


@pytest.fixture
def browser_session(browser, live_server, request):
    session = BrowserSession(browser, live_server.url)
    yield session
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        for number, page in enumerate(session.pages, 1):
            if not page.is_closed():
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{number}.png"), full_page=True)
    session.close()


@pytest.fixture
def new_page(browser_session):
    """Open another page in a fresh context (its own cookies): `new_page(viewport=MOBILE)`."""
    return browser_session.new_page


@pytest.fixture
def page(new_page):
    """A desktop-sized page in a fresh context, its base URL the live server."""
    return new_page()
