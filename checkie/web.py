"""HTTP plumbing shared by every audience: request ids, security headers, error rendering,
and `render_page` (whole page, or one named block for htmx)."""
from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException

from checkie.errors import DomainError

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

#: The default Content-Security-Policy: only our own scripts and styles, never framed.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def render_page(template: str, *, block: str | None = None, status: int = 200, **context) -> Response:
    """Render `template`; for an htmx request naming `block`, render only that block."""
    if block and request.htmx:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    if wants_json():
        error = {"code": code, "message": message}
        if fields:
            error["fields"] = fields
        response = jsonify({"error": error})
        response.status_code = status
        return response
    return make_response(render_template("errors/error.html", status=status, message=message), status)


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 500: "internal_error",
}


def _webargs_fields(error: HTTPException) -> dict | None:
    """webargs puts schema errors under data.messages = {location: {field: [msg]}}; flatten it."""
    messages = (getattr(error, "data", None) or {}).get("messages")
    if not isinstance(messages, dict):
        return None
    fields: dict[str, list[str]] = {}
    for by_field in messages.values():
        for name, problems in (by_field or {}).items():
            fields[name] = problems if isinstance(problems, list) else [str(problems)]
    return fields


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    fields = _webargs_fields(error)
    message = "Some fields are invalid." if fields else (error.description or error.name)
    if status == 500:
        message = "Something went wrong on our side. Please try again."
    response = error_response(status, _HTTP_CODES.get(status, "error"), message, fields)
    for name, value in (getattr(error, "data", None) or {}).get("headers", {}).items():
        response.headers[name] = value
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
    return response


def handle_domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.code, error.message, error.fields)


def assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def add_standard_headers(response: Response) -> Response:
    from flask import current_app

    response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""):
        response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["CHECKIE_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/") and response.mimetype == "application/json":
        response.headers.setdefault("Cache-Control", "no-store")
    if getattr(g, "request_id", None):
        response.headers["X-Request-ID"] = g.request_id
    return response


def init_web(app: Flask) -> None:
    app.before_request(assign_request_id)
    app.after_request(add_standard_headers)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
