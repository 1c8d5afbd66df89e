"""Checkie: an open-source, self-hostable checkout platform."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from checkie.config import config_from_environment
from checkie.database import render_migration_type
from checkie.extensions import (
    PROJECT_ROOT,
    csrf,
    db,
    htmx,
    huey,
    instance_path,
    limiter,
    login_manager,
    migrate,
)
from checkie.tasks import set_app_factory


def create_app(overrides: dict | None = None) -> Flask:
    """Wire the app: config, extensions, blueprints, error handling, CLI. Nothing else."""
    app = Flask(
        __name__,
        instance_path=instance_path(),
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(config_from_environment(app.instance_path))
    app.config.update(overrides or {})
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from checkie import (
        cli,
        models,  # noqa: F401  (every table, for Alembic and relationships)
        templating,
        web,
    )
    from checkie import logging as app_logging
    from checkie.ops import metrics

    app_logging.init_logging(app)
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, render_item=render_migration_type
    )
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    huey.immediate = app.config["HUEY_IMMEDIATE"]
    web.init_web(app)
    metrics.init_metrics(app)  # after web's hooks: the request's timing is web's
    templating.init_templating(app)
    wire_domains()
    register_blueprints(app)
    cli.init_cli(app)
    return app


# A task that runs with no app bound or current builds one (checkie.tasks sits below this factory).
set_app_factory(create_app)


def wire_domains() -> None:
    """Hooks a lower domain calls into a higher one it may not import: a subscription page's
    checkout starts its subscription when payments completes it; renewals' tasks are known."""
    from checkie.payments import outcomes
    from checkie.subscriptions import renewals, services  # noqa: F401  (renewals: its tasks)

    outcomes.on_checkout_completed("subscriptions", services.start_from_checkout)


def register_blueprints(app: Flask) -> None:
    """Every audience's blueprints, in the order each package lists them; the API's go into one
    OpenAPI document."""
    from checkie import api, dashboard, ops, portal, storefront

    for blueprint in (*ops.BLUEPRINTS, *dashboard.BLUEPRINTS, *storefront.BLUEPRINTS, *portal.BLUEPRINTS):
        app.register_blueprint(blueprint)
    app.context_processor(dashboard.template_context)
    api.init_api(app)
