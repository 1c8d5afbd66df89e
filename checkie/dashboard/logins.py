"""Browser sessions: signing in and out, Flask-Login's loader, and where unauthenticated
visitors are sent.

The cookie holds the user id (Flask-Login's) and the token of a server-side session row
(checkie.accounts.browser_sessions); a request is signed in only while that row exists.
"""
from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user

from checkie.accounts import browser_sessions
from checkie.accounts.models import User
from checkie.extensions import db, login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"

#: Where the cookie carries the session row's token.
SESSION_TOKEN_KEY = "_session_token"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    token = session.get(SESSION_TOKEN_KEY)
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    return browser_sessions.user_of_session(db.session, int(user_id), token)


def sign_in(user: User) -> None:
    """Start a brand-new session (the caller commits its row): whatever the browser carried
    before (a planted session, another account's data) is dropped, so the session changes at
    log-in."""
    token = browser_sessions.start_session(db.session, user)
    session.clear()
    login_user(user)
    session[SESSION_TOKEN_KEY] = token
    session.permanent = True


def sign_out() -> None:
    """End this browser's session on the server too (the caller commits), so a copy of the
    cookie made before is refused; the user's other browsers stay signed in."""
    token = session.get(SESSION_TOKEN_KEY)
    if isinstance(token, str):
        browser_sessions.end_session(db.session, token)
    logout_user()
    session.clear()
