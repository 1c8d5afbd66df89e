"""A session's open checkout page, rendered once per shape and filled in per request (SPEC §12).

Most views of a session's page show it open, before any payment: the form with what the shopper
saved. Rendering checkout.html through its macros and WTForms widgets costs several times a whole
request of a plain page, yet nearly all of the HTML depends only on the page's version, the
layout and a handful of the session's values. So the page is rendered once per *shape* — the
key below: everything the template branches on — with a marker in place of each *free* value (the
session id in links, the email and name, the text answers, the CSRF token: values only ever
printed, never tested), cut at the markers, and kept in this process. A request joins the pieces
with its own values, escaped as Jinja escapes them (markupsafe), so the page is byte for byte
what the full render makes (tests/storefront/test_stencil.py renders both ways and compares).

Sessions this does not cover take the full render: any state but open, a payment attempt made
(decline notices), a coupon, a subscription (its terms read the store's clock), a session past
its expiry, flashed messages waiting in the cookie session. A marker the template changed in
passing (a value it transforms instead of printing) would show as a leftover marker: such a
shape is remembered as not covered, never served.
"""
from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, g, make_response, session
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from checkie.catalog.models import FieldType, Page, PricingType
from checkie.catalog.snapshot import PageView
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.errors import NotFound
from checkie.extensions import db
from checkie.storefront.layouts import Frame, Layout
from checkie.storefront.stripe_mode import StripeJs
from checkie.stores.models import Store

#: Shapes kept per process (a page with 2 variants of 3 options has 9 selections, times the
#: amounts a coupon-free session can have: one each); least recently used ones go first.
MAX_STENCILS = 1024
#: Answers whose value decides markup (a checked box, a selected option) go into the key.
_SHAPING_FIELDS = frozenset({FieldType.CHECKBOX, FieldType.SELECT})
#: What url_for puts in a path unchanged and Jinja prints unescaped: a session id must be only
#: that to stand in for its marker in links.
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
#: Markers carry a random nonce of this process that is never shown to anyone, so nothing a
#: merchant or a shopper typed into the page can contain one.
_NONCE = secrets.token_hex(8)
_MARKER = re.compile(f"Z{_NONCE}([a-z_0-9]+)Z")


def _marker(name: str) -> str:
    return f"Z{_NONCE}{name}Z"


#: The slots every stencil may have, besides one per text answer (`answer_<n>`).
_FIXED_SLOTS = ("session_id", "email", "name", "csrf")
SESSION_ID, EMAIL, NAME, CSRF = (_marker(name) for name in _FIXED_SLOTS)


@dataclass(frozen=True)
class Stencil:
    """The page cut at its markers: `pieces[0] value(slots[0]) pieces[1] … pieces[-1]`."""

    pieces: tuple[str, ...]
    slots: tuple[str, ...]

    def fill(self, values: dict[str, str]) -> str:
        parts = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            parts.append(values[slot])
            parts.append(piece)
        return "".join(parts)


_cache: OrderedDict[Hashable, Stencil | None] = OrderedDict()
_lock = threading.Lock()

C = CheckoutSession
#: What a session's page is shown with — the session's columns the stencil reads, its page's
#: version and its store's provider and Stripe key columns (what `providers` reads) — in one
#: statement, no ORM objects.
_SESSION_TO_SHOW = (
    sa.select(C.id, C.store_id, C.page_id, C.state, C.email, C.name, C.variant_options, C.custom_fields, C.coupon_id,
              C.subtotal, C.discount, C.total, C.currency, C.trial_days, C.attempt_count, C.expires_at, C.client_info,
              Page.version.label("page_version"), Store.payment_provider, Store.stripe_publishable_key,
              Store.stripe_secret_key_encrypted)
    .join(Page, Page.id == C.page_id).join(Store, Store.id == C.store_id)
    # One statement object for every request, the id bound at execution: SQLAlchemy then reuses
    # its compiled form and result metadata as they are (a new SELECT per request made it
    # generate a cache key and match the result's columns to the new statement, every time).
    .where(C.id == sa.bindparam("session_id"))
)


def session_to_show(session_id: str) -> sa.Row:
    """The session with this id as its page is shown: the row answers the attributes the stencil
    reads (and the store's, for `providers`); NotFound like services.get_checkout, for any
    string. Read on a connection of its own in autocommit (no BEGIN/ROLLBACK round trips): what
    most page views cost the database is this one statement."""
    services.refuse_malformed_id(session_id)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_SESSION_TO_SHOW, {"session_id": session_id}).one_or_none()
    if row is None:
        raise NotFound("Checkout session not found.")
    return row


def render(checkout: sa.Row, page: PageView, layout: Layout, stripe_js: StripeJs | None,
           load: Callable[[], CheckoutSession], full_render: Callable[[CheckoutSession], Response]) -> Response | None:
    """The page of the session `checkout` (as session_to_show read it) from its stencil; None
    when the stencil does not cover it (the caller renders it in full). To make a stencil,
    `load()` is the session and `full_render(session)` the full render."""
    if not covers(checkout, page):
        return None
    key = _key(checkout, page, layout, stripe_js)
    with _lock:
        found = key in _cache
        stencil = _cache.get(key)
        if found:
            _cache.move_to_end(key)
    if not found:
        loaded = load()
        if not covers(loaded, page) or _key(loaded, page, layout, stripe_js) != key:
            return None  # changed since it was read: shown in full, and no stencil made of it
        stencil = _make(loaded, page, full_render)
        with _lock:
            _cache[key] = stencil
            while len(_cache) > MAX_STENCILS:
                _cache.popitem(last=False)
    if stencil is None:
        return None
    g.stripe_js = stripe_js  # the hosted blueprint's CSP hook reads it, as after a full render
    response = make_response(stencil.fill(_values(checkout, page, layout)), 200)
    response.vary.add("HX-Request")
    return response


def covers(checkout, page: PageView) -> bool:
    """Whether the session's page is one a stencil shows (the module's docstring says why not)."""
    return (
        checkout.state is CheckoutState.OPEN and not checkout.attempt_count and checkout.coupon_id is None
        and page.pricing_type is not PricingType.SUBSCRIPTION and checkout.expires_at > utcnow()
        and _URL_SAFE.fullmatch(checkout.id) is not None and "_flashes" not in session
    )


def forget_all() -> None:
    """Empty this process's stencils (tests that change templates or settings behind the key)."""
    with _lock:
        _cache.clear()


def _key(checkout, page: PageView, layout: Layout, stripe_js: StripeJs | None) -> Hashable:
    return (
        page.id, page.version, _layout_key(layout), stripe_js,
        tuple(sorted((checkout.variant_options or {}).items())),
        checkout.subtotal, checkout.discount, checkout.total, checkout.currency, checkout.trial_days,
        tuple((key, answer) for key, (answer, printed_only) in _answers(checkout, page).items() if not printed_only),
        checkout.email is None, checkout.name is None,
    )


def _layout_key(layout: Layout) -> Hashable:
    if isinstance(layout, Frame):
        return ("frame", layout.embed.public_id, layout.origin, layout.theme, layout.brand_color)
    return ("hosted", layout.csrf)


def _answers(checkout, page: PageView) -> dict[str, tuple[object, bool]]:
    """{field key: (the answer, "" when none; whether it is only printed)}. A choice's answer
    decides markup (checked, selected), and one that is not text is printed as it is: both
    shape the page."""
    answers = checkout.custom_fields or {}
    shown = {field: answers.get(field.key, "") for field in page.custom_fields}
    return {field.key: (answer, field.type not in _SHAPING_FIELDS and isinstance(answer, str))
            for field, answer in shown.items()}


def _free_answers(checkout, page: PageView) -> dict[str, str]:
    """{field key: text answer} of the answers that are only printed: a slot each."""
    return {key: str(answer) for key, (answer, printed_only) in _answers(checkout, page).items() if printed_only}


def _values(checkout, page: PageView, layout: Layout) -> dict[str, str]:
    values = {
        "session_id": checkout.id, "email": str(escape(checkout.email or "")), "name": str(escape(checkout.name or "")),
        "csrf": str(escape(generate_csrf())) if layout.csrf else "",
    }
    for index, answer in enumerate(_free_answers(checkout, page).values()):
        values[f"answer_{index}"] = str(escape(answer))
    return values


def _make(checkout, page: PageView, full_render: Callable[[CheckoutSession], Response]) -> Stencil | None:
    """Render the page of a probe — the session with markers for its free values — and cut it."""
    free = _free_answers(checkout, page)
    probe = CheckoutSession(**{
        **{attribute.key: getattr(checkout, attribute.key) for attribute in C.__mapper__.column_attrs},
        "id": SESSION_ID, "email": None if checkout.email is None else EMAIL, "name": None if checkout.name is None else NAME,
        "custom_fields": {**(checkout.custom_fields or {}),
                          **{key: _marker(f"answer_{index}") for index, key in enumerate(free)}},
    })
    real_token = g.pop("csrf_token", None)
    g.csrf_token = CSRF  # what flask_wtf.generate_csrf answers for the rest of this request
    try:
        html = full_render(probe).get_data(as_text=True)
    finally:
        g.pop("csrf_token", None)
        if real_token is not None:
            g.csrf_token = real_token
    parts = _MARKER.split(html)
    pieces, slots = tuple(parts[0::2]), tuple(parts[1::2])
    known = {*_FIXED_SLOTS, *(f"answer_{index}" for index in range(len(free)))}
    if _NONCE in "".join(pieces) or not set(slots) <= known:
        return None  # a marker the template changed: this shape is rendered in full
    return Stencil(pieces, slots)
