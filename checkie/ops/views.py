"""Operations endpoints: health, readiness and Prometheus metrics.

Probes and scrapers call these every few seconds without cookies or tokens: they are never
rate limited and have no forms (GET only), so CSRF does not apply either.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from checkie.extensions import csrf, db, limiter
from checkie.ops import checks, metrics

bp = Blueprint("ops", __name__)
limiter.exempt(bp)
csrf.exempt(bp)


@bp.get("/healthz")
def healthz():
    """The process is up and answering; touches nothing else."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers, and Redis too when it is configured."""
    results = {"database": checks.check_database(db.engine)}
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        results["redis"] = checks.check_redis(redis_url)
    ready = all(results.values())
    report = {name: "ok" if ok else "error" for name, ok in results.items()}
    report.setdefault("redis", "not_configured")
    return jsonify(status="ok" if ready else "error", checks=report), 200 if ready else 503


@bp.get("/metrics")
def metrics_text():
    return metrics.render_metrics()
