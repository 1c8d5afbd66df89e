"""A real SMTP server for the portal's tests: aiosmtpd's Controller on 127.0.0.1, keeping every
message it receives, and the portal's sign-in link read out of one."""
from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

_PORTAL_LINK = re.compile(r"https?://\S+/portal/verify/([A-Za-z0-9_-]+)")


class Inbox:
    """aiosmtpd's handler: every message, parsed, in arrival order. The SMTP client gets its
    250 only once the message is appended, so a sent email is here when sending returns."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def portal_link(message: EmailMessage) -> tuple[str, str]:
    """The sign-in URL in an email's text part, and its token."""
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = _PORTAL_LINK.search(text)
    assert match, f"no portal link in: {text}"
    return match.group(0), match.group(1)
