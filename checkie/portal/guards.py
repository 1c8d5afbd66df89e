"""Who is signed in to the portal: the browser's Flask session carries a portal session's
token under its own key, beside (never instead of) a merchant's dashboard sign-in, so one
browser can be both. `portal_required` loads the store of the URL and the live portal session,
and lets a view run only for that store's customer."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import g, session, url_for

from checkie.customers import portal
from checkie.customers.models import Customer, PortalLink, PortalSession
from checkie.errors import NotFound
from checkie.extensions import db
from checkie.htmx_responses import see_other
from checkie.security import hash_token
from checkie.stores.models import Store

#: Where the cookie carries the portal session's token (the dashboard's keys stay untouched).
PORTAL_TOKEN_KEY = "_portal_token"


def store_by_slug(slug: str) -> Store:
    """The store of a portal URL; NotFound for a slug no store has. Remembered in `g` so an
    error page of the portal can still wear the store's name."""
    store = find_store(slug)
    if store is None:
        raise NotFound("No such store.")
    g.portal_store = store
    return store


def find_store(slug: object) -> Store | None:
    if not isinstance(slug, str) or not slug.isprintable():
        return None
    return db.session.scalar(sa.select(Store).where(Store.slug == slug[:60]))


def current_session() -> PortalSession | None:
    """The live portal session the cookie names, or None (ended, expired, never signed in)."""
    return portal.session_for(db.session, session.get(PORTAL_TOKEN_KEY))


def remember(token: str) -> None:
    """Hold a new portal session in the cookie. The previous one (of this store or another)
    ends on the server too, so the browser holds one portal session at a time."""
    forget()
    session[PORTAL_TOKEN_KEY] = token


def forget() -> None:
    """End the cookie's portal session on the server and drop its key (the caller commits): a
    copy of the cookie made before no longer works. The dashboard's sign-in stays."""
    previous = current_session()
    if previous is not None:
        portal.sign_out(db.session, previous)
    session.pop(PORTAL_TOKEN_KEY, None)


def portal_required(view: Callable) -> Callable:
    """Run `view(store, customer, **rest)` for the signed-in customer of the URL's store; anyone
    else (signed out, expired, or signed in to another store) goes to this store's sign-in page."""

    @wraps(view)
    def guarded(store_slug: str, **values):
        store = store_by_slug(store_slug)
        signed_in = current_session()
        if signed_in is None or signed_in.store_id != store.id:
            return see_other(url_for("portal.sign_in", store_slug=store.slug))
        customer: Customer = portal.customer_of(db.session, signed_in)
        g.portal_session = signed_in
        return view(store, customer, **values)

    return guarded


def store_of_link(token: str) -> Store | None:
    """The store a refused but real link belongs to (its page offers a new one there)."""
    if not 16 <= len(token) <= 100:
        return None
    return db.session.scalar(
        sa.select(Store).join(PortalLink, PortalLink.store_id == Store.id).where(PortalLink.token_hash == hash_token(token))
    )
