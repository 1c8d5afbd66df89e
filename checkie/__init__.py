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
    from checkie.dashboard.context import init_dashboard_context
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
    init_dashboard_context(app)
    register_blueprints(app)
    cli.init_cli(app)
    return app


# A task that runs with no app bound or current builds one (checkie.tasks sits below this factory).
set_app_factory(create_app)


def register_blueprints(app: Flask) -> None:
    from checkie import docs
    from checkie.api import api_keys as api_api_keys
    from checkie.api import auth as api_auth
    from checkie.api import balance as api_balance
    from checkie.api import checkout_sessions as api_checkout_sessions
    from checkie.api import coupons as api_coupons
    from checkie.api import custom_fields as api_custom_fields
    from checkie.api import customers as api_customers
    from checkie.api import docs as api_docs
    from checkie.api import embeds as api_embeds
    from checkie.api import init_api, psp_webhooks, widget
    from checkie.api import members as api_members
    from checkie.api import pages as api_pages
    from checkie.api import payments as api_payments
    from checkie.api import stores as api_stores
    from checkie.api import users as api_users
    from checkie.api import variants as api_variants
    from checkie.dashboard import (
        account,
        api_keys,
        auth,
        balance,
        coupons,
        custom_fields,
        customers,
        embeds,
        mailbox,
        pages,
        payments,
        sessions,
        stores,
        team,
    )
    from checkie.ops import views as ops
    from checkie.storefront import checkout as storefront

    for blueprint in (
        ops.bp,
        auth.bp,
        account.bp,
        stores.bp,
        team.bp,
        api_keys.bp,
        pages.bp,
        custom_fields.bp,
        coupons.bp,
        embeds.bp,
        sessions.bp,
        payments.bp,
        customers.bp,
        balance.bp,
        mailbox.bp,
        storefront.hosted,
        api_docs.bp,
        docs.bp,
    ):
        app.register_blueprint(blueprint)
    # Called from inside merchants' iframes (authenticated by the session id in the URL): no
    # cookies, no CSRF. The widget (shoppers' browsers, any origin) and the PSP webhooks are in
    # the API document, so init_api registers them (every API blueprint is CSRF-exempt).
    csrf.exempt(storefront.framed)
    app.register_blueprint(storefront.framed)
    init_api(
        app,
        [
            api_auth.blp,
            api_users.blp,
            api_stores.blp,
            api_members.blp,
            api_api_keys.blp,
            api_pages.blp,
            api_variants.blp,
            api_custom_fields.blp,
            api_coupons.blp,
            api_embeds.blp,
            api_checkout_sessions.blp,
            api_payments.blp,
            api_customers.blp,
            api_balance.blp,
            widget.bp,
            psp_webhooks.bp,
        ],
    )
