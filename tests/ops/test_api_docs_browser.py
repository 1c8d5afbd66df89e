"""/api/docs in Debian's Chromium: Swagger UI boots from our files under the page's CSP."""
import os
import threading

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

#: Recorded in the page before any of its scripts run: every CSP violation, whatever the cause.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def docs_page(app):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package", pytrace=False)
    from playwright.sync_api import sync_playwright

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(10_000)
            page.errors = []
            page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
            page.on("pageerror", lambda exc: page.errors.append(str(exc)))
            page.add_init_script(RECORD_VIOLATIONS)
            page.goto(f"http://127.0.0.1:{server.server_port}/api/docs")
            yield page
            browser.close()
    finally:
        server.shutdown()


def test_swagger_ui_renders_the_openapi_document(docs_page):
    title = docs_page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert title.inner_text().startswith("Checkie API")
    docs_page.get_by_role("button", name="Authorize").click()
    docs_page.get_by_text("bearerAuth").first.wait_for()
    assert docs_page.evaluate("window.cspViolations") == []
    assert docs_page.errors == []
