"""GET /healthz, /readyz: what load balancers and orchestrators probe."""
from tests.apps import fresh_app

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_does_not_touch_the_database(app):
    with fresh_app(app, {"SQLALCHEMY_DATABASE_URI": UNREACHABLE_POSTGRES}) as probed:
        response = probed.test_client().get("/healthz")
    assert response.status_code == 200


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_without_redis_configured(app):
    with fresh_app(app, {"REDIS_URL": None}) as probed:
        response = probed.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "not_configured"}


def test_readyz_names_an_unreachable_database(app):
    with fresh_app(app, {"SQLALCHEMY_DATABASE_URI": UNREACHABLE_POSTGRES}) as probed:
        response = probed.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "checks": {"database": "error", "redis": "ok"}}


def test_readyz_names_an_unreachable_redis(app):
    with fresh_app(app, {"REDIS_URL": UNREACHABLE_REDIS}) as probed:
        response = probed.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "checks": {"database": "ok", "redis": "error"}}


def test_probes_refuse_other_methods(client):
    assert client.post("/healthz").status_code == 405
    assert client.delete("/readyz").status_code == 405
