"""Browser sessions: Flask-Login's loader and where unauthenticated visitors are sent."""
from __future__ import annotations

from checkie.accounts.models import User
from checkie.extensions import db, login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The id is `<user id>:<session epoch>`: a password change rotates the epoch, ending
    every other session of the user."""
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != epoch:
        return None
    return user
