"""Prometheus request metrics: a counter and a latency histogram, fed by after-request hooks.

Labels use the matched endpoint, never the raw path, so ids in URLs cannot grow the number of
series without bound. Under gunicorn each worker is a process of its own: with
PROMETHEUS_MULTIPROC_DIR set, prometheus_client writes samples to files there and /metrics
adds up every worker's (gunicorn's `child_exit` hook should call
`prometheus_client.multiprocess.mark_process_dead(worker.pid)`).
"""
from __future__ import annotations

import logging
import os

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from checkie.logging import LIMITER_LOGGER
from checkie.web import request_duration

#: Created once per process (the default registry refuses duplicates, and tests build many apps).
REQUESTS = Counter("checkie_http_requests", "HTTP requests answered.", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "checkie_http_request_duration_seconds", "Time spent answering HTTP requests.", ["method", "endpoint"]
)

#: Flask-Limiter tells of a rate-limit storage it cannot reach only through its logger.
RATE_LIMIT_STORAGE_FAILURES = Counter(
    "checkie_rate_limit_storage_failures",
    "Times the rate-limit storage (Redis) failed and limits fell back to this process's memory or were skipped.",
)

#: Any other verb is counted as "other": clients choose the method string, we bound the labels.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _labels() -> tuple[str, str]:
    method = request.method if request.method in _METHODS else "other"
    # Unmatched URLs (404, 405) have no rule: one shared label.
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "<unmatched>"
    return method, endpoint


def record_request(response: Response) -> Response:
    method, endpoint = _labels()
    REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
    duration = request_duration()
    if duration is not None:
        LATENCY.labels(method, endpoint).observe(duration)
    return response


def render_metrics() -> Response:
    """The Prometheus text exposition of this process, or of every worker in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _StorageFailureCounter(logging.Handler):
    """Counts Flask-Limiter's warnings and errors: each is a storage call that failed."""

    def emit(self, record: logging.LogRecord) -> None:
        RATE_LIMIT_STORAGE_FAILURES.inc()


def init_metrics(app: Flask) -> None:
    app.after_request(record_request)
    logger = logging.getLogger(LIMITER_LOGGER)
    if not any(isinstance(handler, _StorageFailureCounter) for handler in logger.handlers):
        logger.addHandler(_StorageFailureCounter(logging.WARNING))
