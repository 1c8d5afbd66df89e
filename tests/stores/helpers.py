"""Helpers shared by the store, team and API-key tests (dashboard, API, tenant isolation)."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import g, has_app_context

from checkie.notifications.models import EmailMessage
from tests.fixtures import login

HX = {"HX-Request": "true"}
_INVITATION_LINK = re.compile(r"http://localhost(/invitations/([A-Za-z0-9_-]+))")


def login_as(client, user) -> None:
    """`login()`, plus forgetting the user Flask-Login cached for earlier requests. The `db`
    fixture keeps one app context open for the whole test and Flask reuses it for every request,
    so `g` (where Flask-Login caches the user) outlives a request; switching users needs this."""
    login(client, user)
    if has_app_context():
        g.pop("_login_user", None)


def invitation_path(db, email: str) -> str:
    """`/invitations/<token>` from the newest invitation emailed to `email`."""
    message = db.scalars(
        sa.select(EmailMessage)
        .where(EmailMessage.kind == "store_invitation", EmailMessage.to_address == email)
        .order_by(EmailMessage.id.desc())
    ).first()
    assert message is not None, f"no invitation emailed to {email}"
    return _INVITATION_LINK.search(message.text_body).group(1)
