"""The dev mailbox: every email the outbox holds, readable in the browser.

It exists so that a newcomer running Checkie locally can click their verification and reset
links without an SMTP server, hence no login. It shows other people's emails, so it is
refused (404) everywhere but development and test.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape

from checkie.database import MAX_ID
from checkie.extensions import db
from checkie.notifications.models import EmailMessage
from checkie.notifications.services import recent_emails

bp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")

PER_PAGE = 50
_URL = re.compile(r"https?://[^\s<>\"']+")
#: Sentence punctuation right after a link ("see https://x.test/a.") is not part of it.
_TRAILING = ".,;:!?)]}"


@bp.before_request
def only_outside_production():
    if current_app.config["CHECKIE_ENV"] not in ("development", "test"):
        abort(404)


@bp.get("")
def index():
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_ID // PER_PAGE:  # the OFFSET must stay a BIGINT
        abort(404)
    emails, has_older = recent_emails(db.session, page=page, per_page=PER_PAGE)
    return render_template("dashboard/mailbox/index.html", emails=emails, page=page, has_older=has_older)


@bp.get("/<int:message_id>")
def show(message_id: int):
    email = db.session.get(EmailMessage, message_id) or abort(404)
    return render_template("dashboard/mailbox/show.html", email=email, body=linkify(email.text_body))


def linkify(text: str) -> Markup:
    """Escape all of `text` and make its http(s) URLs clickable links."""
    parts: list[Markup] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(url))
        position = match.start() + len(url)
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
