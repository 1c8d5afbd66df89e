"""How every audience answers htmx and plain browsers (STYLE, "Views" and "Templates and htmx").
(Not `checkie/htmx.py`: create_app's namespace already holds the extension `htmx`.)

- `render_page`: the whole page, or for an htmx request the one named block it swaps
  (jinja2-fragments), with `Vary: HX-Request` because the URL answers both ways;
- `see_other`: after a successful post, htmx follows `HX-Redirect` (a 302 would be swapped into
  the page) and a plain browser gets a 303, so a refresh does not post again;
- `hx_redirect`: the full-page redirect htmx follows;
- `hx_trigger`: an event htmx fires on the page once the response is in, for the regions that
  refresh themselves on it;
- `fragment_or_see_other`: after a change, htmx gets the refreshed fragment (which shows the
  message) and a plain browser the message as a flash on the page it is sent back to.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from flask import Response, flash, make_response, redirect, render_template
from flask import request as flask_request
from htmx_flask import HtmxAwareRequest
from htmx_flask import make_response as make_htmx_response
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response as AnyResponse

#: Flask's `request` as the type checker should see it: create_app installs htmx-flask's request
#: class, which adds `request.htmx`. Views that read it import `request` from here.
request = cast(HtmxAwareRequest, flask_request)

R = TypeVar("R", bound=AnyResponse)


def render_page(template: str, *, block: str | None = None, status: int = 200, **context) -> Response:
    """Render `template`; for an htmx request naming `block`, render only that block. A history
    restore (htmx re-fetching a URL it pushed) needs the whole page."""
    if block and request.htmx and not request.htmx.history_restore_request:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(url: str) -> Response:
    return make_htmx_response("", 200, redirect=url)


def see_other(url: str) -> AnyResponse:
    return hx_redirect(url) if request.htmx else redirect(url, 303)


def hx_trigger(response: R, event: str) -> R:
    response.headers["HX-Trigger"] = event
    return response


def fragment_or_see_other(
    fragment: Callable[[], AnyResponse], *, url: str, message: str, category: str = "success"
) -> AnyResponse:
    """htmx: `fragment()` (rendered only then); otherwise flash `message` and send the browser to
    `url` (post/redirect/get)."""
    if request.htmx:
        return fragment()
    flash(message, category)
    return see_other(url)
