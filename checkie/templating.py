"""Jinja filters and globals shared by every audience's templates."""
from __future__ import annotations

from flask import Flask

from checkie.money import format_money


def init_templating(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.jinja_env.globals["checkie_env"] = app.config["CHECKIE_ENV"]
    # Lets the shared layout link only to areas whose blueprints exist.
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
