"""HTTP plumbing shared by every audience: request ids, access logs and metrics, security
headers, error rendering. (Answering htmx and plain browsers: checkie.htmx_responses.)"""
from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    render_template,
    url_for,
)
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, NotFound, UnsupportedMediaType
from werkzeug.wrappers import Response as AnyResponse

from checkie import inputs
from checkie.errors import DomainError
from checkie.htmx_responses import request, see_other

log = logging.getLogger("checkie.web")
access_log = logging.getLogger("checkie.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

#: The default Content-Security-Policy: only our own scripts and styles, never framed.
#: Pages that need more (API docs, embeds) build theirs with `content_security_policy()`.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**overrides: str) -> str:
    """The default policy with some directives replaced: `content_security_policy(style_src=…)`."""
    directives = dict(CSP_DIRECTIVES)
    directives.update({name.replace("_", "-"): value for name, value in overrides.items()})
    return "; ".join(f"{name} {value}" for name, value in directives.items())


DEFAULT_CSP = content_security_policy()


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    """`{"error":{…}}` under /api/, the friendly error page elsewhere."""
    if wants_json():
        error: dict[str, object] = {"code": code, "message": message}
        if fields:
            error["fields"] = fields
        response = jsonify({"error": error})
        response.status_code = status
        return response
    return make_response(_error_page(status, message), status)


def _error_page(status: int, message: str) -> str:
    """The error page must never fail itself (a broken template would turn every 404 into an
    unhandled crash), so fall back to bare HTML if rendering does."""
    try:
        return render_template("errors/error.html", status=status, message=message)
    except Exception:
        log.exception("rendering the error page failed")
        return f"<!doctype html><title>Error {status}</title><h1>Error {status}</h1><p>{escape(message)}</p>"


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
}
_GENERIC_500 = "Something went wrong on our side. Please try again."


def _webargs_details(error: HTTPException) -> tuple[dict[str, list[str]] | None, list[str]]:
    """webargs puts schema errors under data.messages = {location: {field: [msg]}}, or
    {location: [msg]} when the body as a whole is wrong (invalid JSON). Returns the per-field
    messages (nested fields as `pricing.amount`) and the whole-body ones."""
    messages = (getattr(error, "data", None) or {}).get("messages")
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for by_field in (messages or {}).values() if isinstance(messages, dict) else ():
        if isinstance(by_field, dict):
            _flatten(by_field, "", fields)
        elif isinstance(by_field, list):
            general.extend(str(problem) for problem in by_field)
    return fields or None, general


def _flatten(problems: dict, prefix: str, into: dict[str, list[str]]) -> None:
    for name, value in problems.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            _flatten(value, f"{key}.", into)
        else:
            into[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _error_headers(error: HTTPException) -> dict[str, str]:
    """Headers the exception carries (Allow on 405, Retry-After on 429/503, webargs' extras),
    without its Content-Type: we render our own body."""
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update((getattr(error, "data", None) or {}).get("headers") or {})
    return headers


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    fields, general = _webargs_details(error)
    message = _message(error, status, fields, general)
    if message == type(error).description and not wants_json():
        message = ""  # werkzeug's stock sentence; the error page explains in its own words
    response = error_response(status, _HTTP_CODES.get(status, "error"), message, fields)
    response.headers.update(_error_headers(error))
    return response


def _message(error: HTTPException, status: int, fields: dict | None, general: list[str]) -> str:
    if status >= 500:
        # Never show internals (an unhandled exception arrives here as a 500; Flask has
        # already logged it with its traceback).
        return _GENERIC_500
    if general:
        return " ".join(general)
    if fields:
        return "Some fields are invalid."
    return error.description or error.name


def handle_domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.code, error.message, error.fields)


#: What a form posted with a missing or stale CSRF token says once its page is back.
EXPIRED_FORM = "Your session expired; please try again."


def handle_csrf_error(error: CSRFError) -> AnyResponse:
    """Every refused CSRF token gets one answer, whichever view the form posted to: nothing is
    done, and the browser goes back to the page it came from (a same-origin Referer, else the
    dashboard) with a flash saying why, by 303 — or by HX-Redirect for htmx, which would drop a
    400 silently. The token is missing or stale when the session expired or the user logged out
    in another tab; a forged cross-site post lands on our own page and changes nothing."""
    flash(EXPIRED_FORM, "error")
    return see_other(_same_origin_referrer() or url_for("stores.index"))


def _same_origin_referrer() -> str | None:
    """The Referer when it is a page of this site (the whole URL: its path alone, "//evil.test",
    could point elsewhere)."""
    referrer = request.referrer or ""
    try:
        parts = urlsplit(referrer)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None
    if referrer.isprintable() and (parts.scheme, parts.netloc) == (request.scheme, request.host):
        return referrer
    return None


def start_request() -> None:
    """Trust a well-formed X-Request-ID from the proxy so one id follows a request through
    every tier; otherwise make one."""
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def refuse_hostile_input() -> None:
    """Runs before every other hook, parser and view (checkie.inputs says what it refuses).
    Outside /api/ every POST is a form: Flask-WTF would read a JSON body as one, and crash on
    values a form cannot hold. A view that authenticates a bearer token checks the content
    itself, once the caller is known, so a stranger gets a 401 whatever they send."""
    inputs.check_size()
    if request.routing_exception is not None:
        return  # no such route or method: that is the answer, whatever was sent
    if request.is_json and not wants_json():
        raise UnsupportedMediaType("This address takes a form, not JSON.")
    if not getattr(_view(), inputs.CHECKS_CONTENT_ITSELF, False):
        inputs.check_content()


def _view():
    """The function that will answer this request (a MethodView's method, for class views)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(getattr(view, "view_class", None), request.method.lower(), None) or view


def request_duration() -> float | None:
    """Seconds since the request started, or None when start_request did not run."""
    started = g.get("request_started")
    return None if started is None else time.perf_counter() - started


def add_standard_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""):
        response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["CHECKIE_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/") and response.mimetype == "application/json":
        response.headers.setdefault("Cache-Control", "no-store")
    if g.get("request_id"):
        response.headers["X-Request-ID"] = g.request_id
    return response


def log_access(response: Response) -> Response:
    """One line per request (the request id comes from the log filter)."""
    if current_app.config.get("ACCESS_LOG"):
        duration = request_duration()
        duration_ms = None if duration is None else round(duration * 1000, 2)
        access_log.info(
            "%s %s %s %sms", request.method, request.path, response.status_code, duration_ms,
            extra={"method": request.method, "path": request.path, "status": response.status_code, "duration_ms": duration_ms},
        )
    return response


def test_provider_route(view):
    """Mark a view of the built-in test provider (its 3DS steps, its webhook intake): it exists
    only where TEST_PROVIDER_ENABLED says the test provider is configured on purpose."""
    view.test_provider_route = True
    return view


def hide_test_provider() -> None:
    """404 for the test provider's routes where it is not enabled, before CSRF or anything
    else could tell that such a route exists."""
    if getattr(_view(), "test_provider_route", False) and not current_app.config["TEST_PROVIDER_ENABLED"]:
        raise NotFound()


def init_web(app: Flask) -> None:
    inputs.init_converters(app)
    # First of all before-request hooks, so a request refused by CSRF or a rate limit still
    # gets its id and timing; a test-provider route that is off is a 404 before anything could
    # tell it exists, and hostile input is refused before anything else reads it.
    app.before_request_funcs.setdefault(None, [])[:0] = [start_request, hide_test_provider, refuse_hostile_input]
    app.after_request(add_standard_headers)
    app.after_request(log_access)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
