"""GET /metrics: Prometheus text with request counts and latencies, labelled by endpoint."""
import os
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from checkie.extensions import PROJECT_ROOT


def sample(text: str, name: str, **labels) -> float:
    """The value of the sample `name` whose labels include `labels` (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and labels.items() <= s.labels.items():
                return s.value
    return 0.0


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_metrics_is_prometheus_text(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "version=" in response.headers["Content-Type"]  # the exposition format version
    assert "# TYPE checkie_http_requests_total counter" in response.get_data(as_text=True)


def test_requests_are_counted_and_timed_by_endpoint_and_status(client):
    labels = {"method": "GET", "endpoint": "ops.healthz"}
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    after = scrape(client)
    counted = sample(after, "checkie_http_requests_total", status="200", **labels)
    assert counted - sample(before, "checkie_http_requests_total", status="200", **labels) == 2
    timed = sample(after, "checkie_http_request_duration_seconds_count", **labels)
    assert timed - sample(before, "checkie_http_request_duration_seconds_count", **labels) == 2


def test_labels_use_the_route_not_the_raw_path(client):
    client.get("/dev/mailbox/918273")
    client.get("/no-such-page-5647382")
    text = scrape(client)
    assert sample(text, "checkie_http_requests_total", endpoint="mailbox.show", status="404") >= 1
    assert sample(text, "checkie_http_requests_total", endpoint="<unmatched>", status="404") >= 1
    labels = "\n".join(line.rsplit(" ", 1)[0] for line in text.splitlines())  # values may hold any digits
    assert "918273" not in labels and "5647382" not in labels


def test_unusual_methods_share_one_label(client):
    client.open("/healthz", method="BREW")
    text = scrape(client)
    assert sample(text, "checkie_http_requests_total", method="other", endpoint="<unmatched>", status="405") >= 1
    assert "BREW" not in text


def _run(script: str, **env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=PROJECT_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_multiprocess_mode_adds_up_every_worker(app, tmp_path):
    """gunicorn runs several workers: samples go to PROMETHEUS_MULTIPROC_DIR and any worker's
    /metrics reports the sum. Two processes stand in for two workers."""
    worker = """
        from checkie import create_app
        client = create_app().test_client()
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        print(client.get("/metrics").get_data(as_text=True))
    """
    _run(worker, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    text = _run(worker, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    # The second worker's /metrics runs before its own /metrics request is counted.
    assert sample(text, "checkie_http_requests_total", endpoint="ops.healthz", status="200") == 6


def test_probes_are_never_rate_limited(app):
    """With an application-wide limit of 2 per minute, other routes get 429 but the probes
    and the scrape do not. (A process of its own: Flask-Limiter's limits are global.)"""
    script = """
        from checkie import create_app
        app = create_app({"RATELIMIT_APPLICATION": "2/minute", "RATELIMIT_STORAGE_URI": "memory://"})
        client = app.test_client()
        for url in ["/healthz", "/readyz", "/metrics"] * 4:
            assert client.get(url).status_code == 200, url
        statuses = [client.get("/api/openapi.json").status_code for _ in range(3)]
        assert statuses == [200, 200, 429], statuses
        print("ok")
    """
    assert _run(script).strip() == "ok"
