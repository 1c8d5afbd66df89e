"""Subscriptions for the API tests, started the real way: a checkout of a subscription page
paid (or, with a trial, its card saved) through the test provider."""
from __future__ import annotations

import itertools

from checkie.payments.initiation import initiate_payment
from checkie.stores.models import Store
from checkie.subscriptions import services
from checkie.subscriptions.models import Subscription
from tests.factories import make_page, open_checkout

#: The test card that pays the checkout but declines every renewal (SPEC §5).
DECLINES_RENEWALS = "pm_card_chargeCustomerFail"
_PLANS = itertools.count(1)


def subscribe(db, store: Store, *, trial_days: int = 0, card: str = "pm_card_visa", email: str = "shopper@example.com",
              amount: int = 900, interval: str = "month") -> Subscription:
    """A subscription to a new $9.00-a-month page (`trial_days` free first), committed."""
    plan = next(_PLANS)
    page = make_page(db, store, title=f"Plan {plan}", slug=f"plan-{plan}", amount=amount, pricing_type="subscription",
                     interval=interval, trial_days=trial_days, publish=True)
    checkout = open_checkout(db, page, email=email, name="Sam Shopper")
    initiate_payment(db, checkout, payment_method=card)
    db.commit()
    subscription = services.subscription_of_checkout(db, checkout.id)
    assert subscription is not None, "the checkout did not start a subscription"
    return subscription
