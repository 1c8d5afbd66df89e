"""What a strict Content-Security-Policy (script-src 'self'; style-src 'self') would block in a
page, and whether a full page loads Pico, app.css and htmx from /static/vendor."""
from __future__ import annotations

import re
from html.parser import HTMLParser

#: Full pages that are not built on templates/base.html, and why.
NOT_ON_BASE = {"/api/docs": "Swagger UI's own page (it has its own CSP)"}
_PICO = re.compile(r"^/static/vendor/pico-[\d.]+/pico(\.[a-z]+)*\.css$")
_HTMX = re.compile(r"^/static/vendor/htmx-[\d.]+/htmx(\.min)?\.js$")
_URL_ATTRIBUTES = ("href", "src", "action", "formaction")


class CspAudit(HTMLParser):
    """Collects what a strict CSP would block, plus the page's scripts and stylesheets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for name, value in attrs:
            if name == "style":
                self.problems.append(f'<{tag} style="{value}">')
            elif name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=…> (inline event handler)")
            elif name in _URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        attrs = dict(attrs)
        if tag == "style":
            self.problems.append("<style> element")
        elif tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
            else:
                self.problems.append("<script> without src")
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "").split():
            self.stylesheets.append(attrs.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script body: {data.strip()[:60]!r}")


def audit(html: str, *, full_page: bool, path: str) -> list[str]:
    parser = CspAudit()
    parser.feed(html)
    problems = list(parser.problems)
    if full_page and path not in NOT_ON_BASE:
        if not any(_PICO.match(href) for href in parser.stylesheets):
            problems.append(f"no Pico stylesheet from /static/vendor (has {parser.stylesheets})")
        if "/static/css/app.css" not in parser.stylesheets:
            problems.append("no /static/css/app.css")
        if not any(_HTMX.match(src) for src in parser.scripts):
            problems.append(f"no htmx from /static/vendor (has {parser.scripts})")
    problems += [f"script from elsewhere: {src}" for src in parser.scripts if not src.startswith("/static/")]
    return problems
