"""The merchant dashboard: server-rendered pages with htmx partials, one module per area."""
from checkie.dashboard import logins  # noqa: F401  (registers the Flask-Login user loader)
