"""Huey consumer entry point: `huey_consumer checkie.worker.huey`.

Importing this module builds the app once and imports every domain's tasks so the consumer
knows them all.
"""
from checkie import create_app
from checkie.extensions import huey
from checkie.tasks import bind_app

app = create_app()
bind_app(app)

# Every domain's tasks, so the consumer registers them all. noqa: E402,F401 throughout.
import checkie.accounts.tasks  # noqa: E402,F401
import checkie.checkout.tasks  # noqa: E402,F401
import checkie.notifications.tasks  # noqa: E402,F401
import checkie.payments.payouts  # noqa: E402,F401
import checkie.payments.test_provider  # noqa: E402,F401  (the test provider's event outbox)
import checkie.subscriptions.renewals  # noqa: E402,F401
import checkie.webhooks.tasks  # noqa: E402,F401

__all__ = ["huey", "app"]
