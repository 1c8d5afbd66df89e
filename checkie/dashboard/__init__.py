"""The merchant dashboard: server-rendered pages with htmx partials, one module per area."""
from checkie.dashboard import (
    account,
    api_keys,
    auth,
    balance,
    checkouts,
    coupons,
    custom_fields,
    customers,
    embeds,
    logins,  # noqa: F401  (registers the Flask-Login user loader)
    mailbox,
    pages,
    payment_settings,
    payments,
    payouts,
    stores,
    subscriptions,
    team,
    webhooks,
)
from checkie.dashboard.context import template_context

__all__ = ["BLUEPRINTS", "template_context"]

BLUEPRINTS = (
    auth.bp,
    account.bp,
    stores.bp,
    team.bp,
    api_keys.bp,
    payment_settings.bp,
    pages.bp,
    custom_fields.bp,
    coupons.bp,
    embeds.bp,
    checkouts.bp,
    payments.bp,
    customers.bp,
    subscriptions.bp,
    balance.bp,
    payouts.bp,
    mailbox.bp,
    webhooks.bp,
)
