"""Flask-WTF forms for the dashboard, one module per area."""
