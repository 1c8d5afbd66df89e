"""The JSON view of a subscription (SPEC §6.6), shared by the merchant API and webhook events."""
from __future__ import annotations

from datetime import datetime

from checkie.subscriptions.models import Subscription


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def subscription_view(subscription: Subscription) -> dict:
    return {
        "id": subscription.id,
        "status": subscription.status.value,
        "customerId": subscription.customer_id,
        "pageId": subscription.page_id,
        "amount": subscription.amount,
        "currency": subscription.currency,
        "interval": subscription.interval.value,
        "intervalCount": subscription.interval_count,
        "currentPeriodStart": _iso(subscription.current_period_start),
        "currentPeriodEnd": _iso(subscription.current_period_end),
        "trialEnd": _iso(subscription.trial_end),
        "cancelAtPeriodEnd": subscription.cancel_at_period_end,
        "canceledAt": _iso(subscription.canceled_at),
        "cancellationReason": subscription.cancellation_reason.value if subscription.cancellation_reason else None,
        "pausedAt": _iso(subscription.paused_at),
        "createdAt": _iso(subscription.started_at),
    }
