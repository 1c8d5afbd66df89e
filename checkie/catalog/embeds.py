"""Embeds: putting a checkout page on the merchant's own site, as an iframe (`inline`), a button
that opens the checkout in an overlay (`button`), or a plain link (`link`).

This module creates, lists and deletes embeds and writes the snippet merchants paste
(`embed_code`). The snippet points at the URLs of SPEC §6.1, served by the checkout:
`/static/embed.js` (finds `[data-checkie-embed]` elements and inserts the iframe or button),
`/embed/<public id>` (the framed checkout, allowed only under `frame_ancestors(embed)`), and
`/c/<store slug>/<page slug>` (the full-page checkout: links and the no-JavaScript fallback).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.orm import Session

from checkie.catalog.models import Embed, EmbedType, Page
from checkie.colors import BRAND_COLOR
from checkie.errors import NotFound, ValidationFailed
from checkie.security import new_token
from checkie.stores.access import MAX_ID
from checkie.stores.models import Store
from checkie.stores.services import clean_label

PUBLIC_ID_PREFIX = "emb_"
THEMES = ("auto", "light", "dark")
DEFAULT_THEME = "auto"
DEFAULT_BUTTON_TEXT = "Buy now"
BUTTON_TEXT_MAX_LENGTH = 40
MAX_ORIGINS = 20
ORIGIN_MAX_LENGTH = 260
#: The settings an embed understands: `create_embed`'s arguments, and the keys of `Embed.settings`.
SETTING_NAMES = ("button_text", "theme", "brand_color")
#: What an embed shows for the settings it was created without.
DEFAULT_SETTINGS = {"button_text": DEFAULT_BUTTON_TEXT, "theme": DEFAULT_THEME}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


# ---------- rules ----------

def check_type(value: EmbedType | str) -> EmbedType:
    try:
        return EmbedType(value)
    except ValueError:
        raise ValidationFailed.on("type", "Choose inline, button or link.") from None


def _ascii_host(host: str) -> str | None:
    """A host name in its ASCII form (IDN → punycode), or None when it is not a valid one."""
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]" if "%" not in host else None
        except ValueError:
            return None
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return None
    return ".".join(labels)


def normalize_origin(text: str) -> str | None:
    """'HTTPS://Shop.Example:443/' → 'https://shop.example': scheme://host[:port], lower-case,
    default port dropped, as browsers serialise origins (so CSP `frame-ancestors` matches).
    None when `text` is not an http(s) origin: paths, queries, credentials and wildcards are
    refused. One trailing slash is forgiven (it comes with copying from the address bar)."""
    raw = (text or "").strip()
    raw = raw[:-1] if raw.endswith("/") else raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if (scheme not in _DEFAULT_PORTS or parts.path or parts.query or parts.fragment or "@" in parts.netloc
            or not parts.hostname or port == 0 or len(raw) > ORIGIN_MAX_LENGTH):
        return None
    host = _ascii_host(parts.hostname)
    if host is None:
        return None
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def check_origins(origins: Sequence[str] | None) -> list[str]:
    """Normalised, de-duplicated origins (order kept); ValidationFailed on `allowed_origins`."""
    if origins is None:
        return []
    if isinstance(origins, str) or len(origins) > MAX_ORIGINS:
        raise ValidationFailed.on("allowed_origins", f"List at most {MAX_ORIGINS} origins.")
    cleaned: list[str] = []
    for origin in origins:
        normal = normalize_origin(origin) if isinstance(origin, str) else None
        if normal is None:
            raise ValidationFailed.on(
                "allowed_origins",
                f"“{str(origin)[:80]}” is not an origin. Use scheme://host[:port] without a path, "
                "e.g. https://shop.example.",
            )
        if normal not in cleaned:
            cleaned.append(normal)
    return cleaned


def check_settings(*, button_text: object = None, theme: object = None, brand_color: object = None) -> dict[str, str]:
    """The settings to store (keys of SETTING_NAMES): a blank button text or theme gets its
    default, a brand colour is kept only when given. ValidationFailed on `button_text`, `theme`
    or `brand_color`."""
    blank = button_text is None or (isinstance(button_text, str) and not button_text.strip())
    text = DEFAULT_BUTTON_TEXT if blank else button_text
    checked = {
        "button_text": clean_label(text if isinstance(text, str) else "", field="button_text",
                                   max_length=BUTTON_TEXT_MAX_LENGTH),
    }
    theme = theme or DEFAULT_THEME
    if not isinstance(theme, str) or theme not in THEMES:
        raise ValidationFailed.on("theme", "Choose auto, light or dark.")
    checked["theme"] = theme
    if brand_color is not None and brand_color != "":
        color = brand_color.strip().lower() if isinstance(brand_color, str) else ""
        if not BRAND_COLOR.fullmatch(color):
            raise ValidationFailed.on("brand_color", "Enter a colour as #rrggbb, e.g. #4f46e5.")
        checked["brand_color"] = color
    return checked


def settings_of(embed: Embed) -> dict[str, str]:
    """The embed's settings with the defaults of those it was created without."""
    return {**DEFAULT_SETTINGS, **(embed.settings or {})}


# ---------- use cases ----------

def create_embed(
    db: Session, page: Page, *, type: EmbedType | str, allowed_origins: Sequence[str] | None = None,
    button_text: object = None, theme: object = None, brand_color: object = None,
) -> Embed:
    """A new embed of `page` with an unguessable public id (`emb_…`). No allowed origins means
    any site may frame it; the settings are checked by `check_settings`. ValidationFailed on
    `type`, `allowed_origins` or a setting."""
    embed = Embed(
        public_id=PUBLIC_ID_PREFIX + new_token(12), store_id=page.store_id, page_id=page.id, page=page,
        type=check_type(type), allowed_origins=check_origins(allowed_origins),
        settings=check_settings(button_text=button_text, theme=theme, brand_color=brand_color),
    )
    db.add(embed)
    db.flush()
    return embed


def embeds_of_page(page: Page) -> sa.Select:
    """The page's embeds, for `paginate` or a list."""
    return sa.select(Embed).where(Embed.page_id == page.id, Embed.store_id == page.store_id)


def list_embeds(db: Session, page: Page) -> list[Embed]:
    """Every embed of the page, newest first."""
    return list(db.scalars(embeds_of_page(page).order_by(Embed.id.desc())))


def get_embed(db: Session, store: Store, embed_id: int) -> Embed:
    """An embed of `store` by its integer id; another store's embed is NotFound, like a missing one."""
    embed = db.get(Embed, embed_id) if 0 < embed_id <= MAX_ID else None
    if embed is None or embed.store_id != store.id:
        raise NotFound("Embed not found.")
    return embed


#: Built once, the id bound at execution: every framed checkout and widget embed request reads
#: it, and SQLAlchemy reuses a statement object's cache key instead of deriving a new one.
_EMBED_BY_PUBLIC_ID = sa.select(Embed).where(Embed.public_id == sa.bindparam("public_id"))


def find_embed(db: Session, public_id: str) -> Embed | None:
    """The embed behind a public id (`/embed/<public id>`), whatever its page's status."""
    if not public_id.startswith(PUBLIC_ID_PREFIX) or len(public_id) > 40:
        return None
    return db.scalar(_EMBED_BY_PUBLIC_ID, {"public_id": public_id})


def delete_embed(db: Session, embed: Embed) -> None:
    """Delete the embed: its snippet stops working (the iframe page answers 404)."""
    db.delete(embed)
    db.flush()


# ---------- URLs and the snippet ----------

def iframe_url(embed: Embed, app_url: str) -> str:
    return f"{app_url.rstrip('/')}/embed/{quote(embed.public_id)}"


def checkout_url(page: Page, app_url: str) -> str:
    return f"{app_url.rstrip('/')}/c/{quote(page.store.slug)}/{quote(page.slug)}"


def frame_ancestors(embed: Embed) -> str:
    """The CSP `frame-ancestors` value for the embed's iframe page: its origins, or `*`."""
    return " ".join(embed.allowed_origins or []) or "*"


def embed_code(embed: Embed, app_url: str) -> str:
    """The HTML a merchant pastes into their site (every value escaped).

    inline/button: a `<div data-checkie-embed>` that `/static/embed.js` turns into the iframe
    (`data-src`) or a button opening it in an overlay (in the brand colour, `data-brand-color`),
    with a `<noscript>` link to the full-page checkout. link: just that link."""
    base = app_url.rstrip("/")
    settings = settings_of(embed)
    text = escape(settings["button_text"])
    checkout = escape(checkout_url(embed.page, base))
    if embed.type is EmbedType.LINK:
        return f'<a href="{checkout}" data-checkie-link="{escape(embed.public_id)}">{text}</a>'
    attributes = [
        f'data-checkie-embed="{escape(embed.public_id)}"',
        f'data-type="{embed.type.value}"',
        f'data-src="{escape(iframe_url(embed, base))}"',
        f'data-theme="{escape(settings["theme"])}"',
    ]
    if embed.type is EmbedType.BUTTON:
        attributes.append(f'data-button-text="{text}"')
        if settings.get("brand_color"):
            attributes.append(f'data-brand-color="{escape(settings["brand_color"])}"')
    return (
        f"<div {' '.join(attributes)}>\n"
        f'  <noscript><a href="{checkout}">{text}</a></noscript>\n'
        "</div>\n"
        f'<script async src="{escape(base)}/static/embed.js"></script>'
    )
