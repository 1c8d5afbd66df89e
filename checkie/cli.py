"""Flask CLI commands (`flask --app wsgi …`)."""
from flask import Flask


def init_cli(app: Flask) -> None:
    pass
