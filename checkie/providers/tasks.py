"""Tasks of the test provider: deliver its Stripe-shaped events to our own webhook intake."""
from __future__ import annotations

import json
import logging

import requests
from flask import current_app

from checkie.providers.stripe import sign_payload
from checkie.tasks import task

log = logging.getLogger("checkie.providers")

WEBHOOK_PATH = "/api/webhooks/test"


class DeliveryFailed(RuntimeError):
    """The intake did not answer 2xx; Huey retries the task."""


@task(retries=5, retry_delay=10)
def deliver_test_event(event: dict) -> None:
    """Sign `event` with TEST_PROVIDER_WEBHOOK_SECRET (Stripe's scheme) and POST it to
    APP_URL + /api/webhooks/test. Under CHECKIE_ENV=test the request goes through the app's test
    client instead of the network: the same URL, headers and view, without a server."""
    config = current_app.config
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, config["TEST_PROVIDER_WEBHOOK_SECRET"])}
    url = config["APP_URL"] + WEBHOOK_PATH
    if config["CHECKIE_ENV"] == "test":
        status = _post_in_process(url, body, headers)
    else:
        status = requests.post(url, data=body, headers=headers, timeout=10, allow_redirects=False).status_code
    if not 200 <= status < 300:
        raise DeliveryFailed(f"test event {event.get('id')} answered {status}")


def _post_in_process(url: str, body: bytes, headers: dict) -> int:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A context of its own, like a real request: its own `g` and database session.
    with app.app_context():
        return app.test_client().post(url, data=body, headers=headers).status_code
