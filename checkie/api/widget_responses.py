"""The public widget API's answers (SPEC §6.2): camelCase keys, amounts in minor units, states
in lower case. The lookups the views start from and plain functions from domain objects to
dicts; reading only (nothing here writes or commits). Request bodies: `widget_requests`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from checkie.api.embed_schemas import EmbedSettingsSchema
from checkie.catalog import embeds, snapshot
from checkie.catalog.coupons import CouponEvaluation
from checkie.catalog.models import Coupon, Embed, Page, PageStatus
from checkie.catalog.snapshot import PageView
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.errors import NotFound
from checkie.payments.models import AttemptStatus, Payment, PaymentAttempt
from checkie.providers.stripe import StripeProvider
from checkie.subscriptions.models import Subscription
from checkie.subscriptions.services import subscription_of_checkout

#: The one kind of next action the widget knows: send the shopper to the PSP's page (3DS).
REDIRECT_TO_URL = "redirect_to_url"


# ---------- loading ----------

def find_published_page(db: Session, store_slug: str, page_slug: str) -> PageView:
    """The view of a published page by its public address; NotFound for anything else (draft,
    archived, unknown) so shoppers cannot probe for unpublished pages."""
    page = snapshot.published_page(db, store_slug, page_slug)
    if page is None:
        raise NotFound("Page not found.")
    return page


def find_public_embed(db: Session, embed_id: str) -> tuple[Embed, PageView]:
    """An embed by its public id and the cached view of its page, which is on sale; NotFound
    otherwise. The view spares loading the page's variants, options and fields row by row."""
    embed = embeds.find_embed(db, embed_id)
    page = snapshot.current_page(db, embed.page_id) if embed is not None else None
    if embed is None or page is None or page.status is not PageStatus.PUBLISHED:
        raise NotFound("Embed not found.")
    return embed, page


@dataclass(frozen=True)
class CheckoutStatus:
    """What the status answer reads about a session: its first payment, the subscription it
    started and its latest attempt's authentication URL (each None when there is none)."""

    checkout: CheckoutSession
    payment_id: int | None
    subscription_id: int | None
    next_action_url: str | None


def _about_session(column, where, order_by) -> sa.ScalarSelect:
    return sa.select(column).where(where == CheckoutSession.id).order_by(order_by).limit(1).scalar_subquery()


#: Read with the session in one statement: a shopper polls this while a payment settles.
_STATUS = services.select_checkout_with(
    _about_session(Payment.id, Payment.session_id, Payment.id),
    _about_session(Subscription.id, Subscription.checkout_session_id, Subscription.id),
    _about_session(PaymentAttempt.next_action_url, PaymentAttempt.session_id, PaymentAttempt.number.desc()),
)


def find_checkout_status(db: Session, session_id: str) -> CheckoutStatus:
    """A session and what its status answer needs, in one query; NotFound for an unknown id."""
    checkout, payment_id, subscription_id, next_action_url = services.get_checkout_with(db, session_id, _STATUS)
    return CheckoutStatus(checkout, payment_id, subscription_id, next_action_url)


def checkout_subscription_id(db: Session, checkout: CheckoutSession) -> int | None:
    """The subscription a completed checkout started; None for a one-time page's (and before
    completion, when there is none yet to look for)."""
    if checkout.state is not CheckoutState.COMPLETED:
        return None
    subscription = subscription_of_checkout(db, checkout.id)
    return subscription.id if subscription else None


# ---------- shapes ----------

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _enum_value(value) -> str | None:
    return getattr(value, "value", value)


def amount_view(subtotal: int, discount: int, total: int, currency: str) -> dict:
    return {"subtotal": subtotal, "discount": discount, "total": total, "currency": currency}


def checkout_amount(checkout: CheckoutSession) -> dict:
    """The session's amounts, and what is charged at checkout: nothing during a free trial."""
    return {**amount_view(checkout.subtotal, checkout.discount, checkout.total, checkout.currency),
            "dueNow": checkout.due_now}


def coupon_view(coupon: Coupon | None) -> dict | None:
    if coupon is None:
        return None
    return {"code": coupon.code, "percentOff": coupon.percent_off, "amountOff": coupon.amount_off,
            "currency": coupon.currency}


def page_view(page: Page | PageView) -> dict:
    """What a shopper needs to render the checkout: never the page's draft state or stats."""
    return {
        "id": page.id, "slug": page.slug, "title": page.title, "description": page.description,
        "pricing": {
            "type": _enum_value(page.pricing_type), "amount": page.amount, "currency": page.currency,
            "interval": _enum_value(page.interval), "intervalCount": page.interval_count,
            "trialDays": page.trial_days,
        },
        "variants": [
            {"id": variant.id, "name": variant.name,
             "options": [{"id": o.id, "name": o.name, "priceDelta": o.price_delta} for o in variant.options]}
            for variant in page.variants
        ],
        "customFields": [
            {"id": f.id, "key": f.key, "label": f.label, "type": _enum_value(f.type), "required": f.required,
             "options": f.options}
            for f in page.custom_fields
        ],
        "allowCoupons": page.allow_coupons,
    }


def opened_view(checkout: CheckoutSession, page: PageView) -> dict:
    """The answer to opening a checkout: the session, its page and the starting amounts."""
    return {
        "sessionId": checkout.id, "expiresAt": _iso(checkout.expires_at),
        "store": {"name": page.store.name, "slug": page.store.slug},
        "page": page_view(page), "amount": checkout_amount(checkout),
    }


def checkout_view(db: Session, checkout: CheckoutSession) -> dict:
    coupon = db.get(Coupon, checkout.coupon_id) if checkout.coupon_id else None
    return {
        "sessionId": checkout.id, "status": _enum_value(checkout.state), "email": checkout.email,
        "amount": checkout_amount(checkout), "customFields": dict(checkout.custom_fields or {}),
        "variantOptions": dict(checkout.variant_options or {}), "coupon": coupon_view(coupon),
        "subscriptionId": checkout_subscription_id(db, checkout),
    }


def coupon_check_view(evaluation: CouponEvaluation, subtotal: int) -> dict:
    if not evaluation.valid:
        return {"valid": False, "reason": _enum_value(evaluation.reason)}
    return {
        "valid": True, "coupon": coupon_view(evaluation.coupon),
        "amount": amount_view(subtotal, evaluation.discount, evaluation.total, evaluation.currency),
    }


def _next_action(checkout: CheckoutSession, next_action_url: str | None) -> dict | None:
    if checkout.state is not CheckoutState.AWAITING_ACTION or not next_action_url:
        return None
    return {"type": REDIRECT_TO_URL, "url": next_action_url}


def payment_started_view(checkout: CheckoutSession, attempt: PaymentAttempt) -> dict:
    """The answer to a payment attempt: where the session stands now, what the shopper must do
    next (authenticate), or why the card was refused (the session is open again, or expired
    after the third refusal)."""
    view: dict = {"sessionId": checkout.id, "status": _enum_value(checkout.state)}
    if attempt.provider == StripeProvider.name and attempt.client_secret:  # for Stripe.js (3-D Secure)
        view["clientSecret"] = attempt.client_secret
    next_action = _next_action(checkout, attempt.next_action_url)
    if next_action:
        view["nextAction"] = next_action
    if attempt.status is AttemptStatus.FAILED:
        view["error"] = {"code": attempt.failure_code or "payment_failed",
                         "message": attempt.failure_message or "The payment was not accepted."}
    return view


def status_view(status: CheckoutStatus) -> dict:
    """Where a session stands; the payment and subscription once it completed, the next action
    while it awaits one (SPEC §6.2)."""
    checkout = status.checkout
    completed = checkout.state is CheckoutState.COMPLETED
    view: dict = {"sessionId": checkout.id, "status": _enum_value(checkout.state), "attempts": checkout.attempt_count,
                  "subscriptionId": status.subscription_id if completed else None}
    if completed and status.payment_id is not None:
        view["paymentId"] = status.payment_id
    next_action = _next_action(checkout, status.next_action_url)
    if next_action:
        view["nextAction"] = next_action
    return view


def embed_view(embed: Embed, page: PageView) -> dict:
    return {
        "embedId": embed.public_id, "type": _enum_value(embed.type),
        "iframeUrl": embeds.iframe_url(embed, current_app.config["APP_URL"]),
        "page": page_view(page), "settings": EmbedSettingsSchema().dump(embeds.settings_of(embed)),
    }
