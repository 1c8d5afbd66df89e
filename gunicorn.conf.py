"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Tuned by environment variables so the same image fits any host:
GUNICORN_BIND (0.0.0.0:8000), WEB_CONCURRENCY (worker processes, 2 × cores + 1),
GUNICORN_THREADS (4), GUNICORN_TIMEOUT (30 s). gunicorn itself reads FORWARDED_ALLOW_IPS
(which proxies may set X-Forwarded-Proto) and GUNICORN_CMD_ARGS.
"""
import multiprocessing
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Workers are recycled now and then, so a slow leak cannot grow without bound.
max_requests = 10_000
max_requests_jitter = 1_000
# Checkie writes its own access line per request (ACCESS_LOG, with the request id), so gunicorn does not.
accesslog = None
errorlog = "-"
# gunicorn's control socket lives in $HOME and clashes between instances on one host; unused here.
control_socket_disable = True


def on_starting(server):
    """Prometheus multiprocess mode keeps per-process sample files in PROMETHEUS_MULTIPROC_DIR;
    files left by a previous run would be added to this one's, so start from an empty folder."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges from /metrics (its counters are kept, as they should be)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
