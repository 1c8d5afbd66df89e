"""Subscriptions for the API tests, started the real way: a checkout of a subscription page
paid (or, with a trial, its card saved) through the test provider."""
from __future__ import annotations

import itertools

from checkie.stores.models import Store
from checkie.subscriptions.models import Subscription
from tests import subscription_factories

#: The test card that pays the checkout but declines every renewal (SPEC §5).
DECLINES_RENEWALS = "pm_card_chargeCustomerFail"
_PLANS = itertools.count(1)


def subscribe(db, store: Store, *, trial_days: int = 0, card: str = "pm_card_visa", email: str = "shopper@example.com",
              amount: int = 900, interval: str = "month") -> Subscription:
    """A subscription to a new page "Plan <n>" ($9.00 a month unless said otherwise, `trial_days` free first)."""
    plan = next(_PLANS)
    return subscription_factories.subscribe(db, store, title=f"Plan {plan}", slug=f"plan-{plan}", amount=amount,
                                            interval=interval, trial_days=trial_days, card=card, email=email)
