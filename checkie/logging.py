"""Logs: plain text in development, JSON with the request id in production (LOG_JSON).

Everything under the `checkie` logger (app.logger is the same logger) goes to one stderr
handler; the request id is added by a filter on that handler, so every line written during a
request carries it, whichever module logged it.
"""
from __future__ import annotations

import logging
import sys

from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter

HANDLER_NAME = "checkie"
#: Flask-Limiter's logger: its only word that the rate-limit storage is unreachable.
LIMITER_LOGGER = "flask-limiter"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def _formatter(json_lines: bool) -> logging.Formatter:
    if json_lines:
        # Fields passed with `extra=` (the access log's method, path, status…) become keys too.
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "asctime": "time"},
        )
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def init_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.name = HANDLER_NAME
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(_formatter(app.config["LOG_JSON"]))
    logger = logging.getLogger("checkie")  # also app.logger: Flask names it after the package
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    # Our handler is the only one: no duplicate lines through whatever the server put on root.
    logger.propagate = False
    # Flask-Limiter's word that Redis is unreachable belongs in the same log, request id and all.
    limiter_logger = logging.getLogger(LIMITER_LOGGER)
    limiter_logger.handlers[:] = [h for h in limiter_logger.handlers if h.name != HANDLER_NAME] + [handler]
    limiter_logger.propagate = False
    _enable_checkie_loggers()


def _enable_checkie_loggers() -> None:
    """logging.config.fileConfig (Alembic's env.py calls it) disables every logger that exists
    at that moment unless told otherwise; ours must keep working in the same process."""
    for name, logger in logging.root.manager.loggerDict.items():
        if (name == "checkie" or name.startswith("checkie.")) and isinstance(logger, logging.Logger):
            logger.disabled = False
