"""A merchant's brand colour: one format for every place that takes one (an embed's setting, the
store's portal colour), and the text colour that reads on it."""
from __future__ import annotations

import re

#: `#rrggbb`, lower case: what is stored and what the per-merchant stylesheets are rendered from.
BRAND_COLOR = re.compile(r"#[0-9a-f]{6}")


def text_color_on(color: str) -> str:
    """Black or white, whichever reads better on the `#rrggbb` background (the brand colour's
    buttons): white unless the colour is light, by its perceived brightness (ITU-R BT.601 weights)."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "#000" if red * 299 + green * 587 + blue * 114 > 160_000 else "#fff"
