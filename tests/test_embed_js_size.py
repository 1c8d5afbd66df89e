"""`static/embed.js` is what merchants load on every page of their own site (SPEC §12): it must
stay under 3 KB gzipped, have no dependencies and need no build step."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

EMBED_JS = Path(__file__).resolve().parents[1] / "static" / "embed.js"
LIMIT = 3 * 1024


def test_embed_js_is_under_3_kb_gzipped():
    compressed = len(gzip.compress(EMBED_JS.read_bytes(), compresslevel=9))
    assert compressed < LIMIT, f"static/embed.js is {compressed} bytes gzipped; the budget is {LIMIT}"


def test_embed_js_is_plain_script_without_imports():
    source = EMBED_JS.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|export)\s", source, re.MULTILINE), "no modules: one plain <script>"
    assert "require(" not in source
    for name in ("checkie:ready", "checkie:resize", "checkie:completed", "checkie:closed"):
        assert name in source, f"the contract comment names {name}"
