"""What the app emailed: the messages to an address, and the links (tokens) inside them."""
from __future__ import annotations

import re

import sqlalchemy as sa

from checkie.notifications.models import EmailMessage

_INVITATION_LINK = re.compile(r"http://localhost(/invitations/([A-Za-z0-9_-]+))")


def emails_to(db, address: str, kind: str | None = None) -> list[EmailMessage]:
    stmt = sa.select(EmailMessage).where(EmailMessage.to_address == address).order_by(EmailMessage.id)
    if kind:
        stmt = stmt.where(EmailMessage.kind == kind)
    return list(db.scalars(stmt))


def token_from_email(message: EmailMessage, path: str) -> str:
    """The token of the `<APP_URL>/<path>/<token>` link in an email's text."""
    match = re.search(rf"http://localhost/{path}/([A-Za-z0-9_-]+)", message.text_body)
    assert match, f"no /{path}/ link in: {message.text_body}"
    return match.group(1)


def latest_token(db, address: str, kind: str, path: str) -> str:
    messages = emails_to(db, address, kind)
    assert messages, f"no {kind} email to {address}"
    return token_from_email(messages[-1], path)


def invitation_path(db, email: str) -> str:
    """`/invitations/<token>` from the newest invitation emailed to `email`."""
    message = db.scalars(
        sa.select(EmailMessage)
        .where(EmailMessage.kind == "store_invitation", EmailMessage.to_address == email)
        .order_by(EmailMessage.id.desc())
    ).first()
    assert message is not None, f"no invitation emailed to {email}"
    return _INVITATION_LINK.search(message.text_body).group(1)
