"""Browsable API docs at /api/docs: the vendored Swagger UI reading /api/openapi.json."""
from __future__ import annotations

from flask import Blueprint, make_response, render_template, url_for

from checkie.web import content_security_policy

bp = Blueprint("api_docs", __name__)

#: Swagger UI sets inline styles from its scripts and draws icons as data: images; its
#: scripts are our own files, so script-src stays 'self'.
DOCS_CSP = content_security_policy(style_src="'self' 'unsafe-inline'")


@bp.get("/api/docs")
def index():
    response = make_response(render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json")))
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
