"""Requests as a browser or an API client sends them: CSRF tokens, signed-in clients, bearer
tokens, htmx headers, and reading what came back."""
from __future__ import annotations

import re

from flask import g, has_app_context
from sqlalchemy.orm import object_session

from checkie.accounts.browser_sessions import start_session
from checkie.accounts.models import User
from checkie.accounts.tokens import create_access_token
from checkie.dashboard.logins import SESSION_TOKEN_KEY

HX = {"HX-Request": "true"}
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
_CSRF_VALUE = re.compile(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]+|("X-CSRFToken": ")[^"]+')
_SESSION_URL = re.compile(r"/c/s/(cs_[A-Za-z0-9_-]+)$")


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def csrf_token(client, page: str = "/login") -> str:
    """A valid CSRF token for this client's session, read from a page it renders."""
    return csrf_token_from(client.get(page).get_data(as_text=True))


def post_form(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """POST a form as a browser would: with the CSRF token from `page` (default: `url`)."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, page or url))
    return client.post(url, data=data, **kwargs)


def login(client, user: User) -> None:
    """Sign `client` in as `user` without going through the login form: a server-side session
    row, committed with whatever the user's database session holds, and its token in the cookie."""
    db = object_session(user)
    token = start_session(db, user)
    db.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session[SESSION_TOKEN_KEY] = token
        session["_fresh"] = True


def login_as(client, user) -> None:
    """`login()`, plus forgetting the user Flask-Login cached for earlier requests. The `db`
    fixture keeps one app context open for the whole test and Flask reuses it for every request,
    so `g` (where Flask-Login caches the user) outlives a request; switching users needs this."""
    login(client, user)
    if has_app_context():
        g.pop("_login_user", None)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def access_token_for(app, user: User) -> str:
    return create_access_token(
        user.id, user.session_epoch, secret=app.config["JWT_SECRET"], ttl=app.config["JWT_EXPIRATION"]
    )


def session_id_from(location: str) -> str:
    """The checkout session id in a redirect to its hosted page (`/c/s/<id>`)."""
    match = _SESSION_URL.search(location)
    assert match, f"not a checkout session URL: {location}"
    return match.group(1)


def without_volatile(html: str, *emails: str) -> str:
    """A page with its CSRF tokens and the given addresses blanked, for comparing two answers."""
    html = _CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(2)) + "CSRF", html)
    for email in sorted(emails, key=len, reverse=True):  # longest first: one may contain another
        html = html.replace(email, "EMAIL")
    return html
