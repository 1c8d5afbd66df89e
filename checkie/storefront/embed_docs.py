"""Public documentation pages for merchants' developers: `/docs/embeds` describes the embed
snippet, its data attributes, allowed origins, the postMessage contract between the checkout
frame and the host page, and the widget JSON endpoint `embed.js` reads; `/docs/webhooks` how to
verify the signed events Checkie posts, what each holds, retries and disabling. No login:
merchants link their developers here, and the README points at it."""
from __future__ import annotations

from flask import Blueprint, current_app

from checkie.htmx_responses import render_page
from checkie.webhooks.services import SUBSCRIBABLE_EVENTS

bp = Blueprint("docs", __name__)

#: The messages the checkout frame posts to the host page, in the order a purchase sends them:
#: (type, payload keys and their meaning, when it is sent). `embed.js` re-emits each one as a
#: DOM CustomEvent of the same name on the embed element, with the payload as `event.detail`.
EMBED_MESSAGES = (
    ("checkie:ready", "{}", "The checkout has loaded inside the frame."),
    ("checkie:resize", '{"height": 812}', "The content's height changed (CSS pixels); embed.js sets the iframe's height."),
    ("checkie:attempt_failed", '{"code": "card_declined"}', "A payment attempt failed; the shopper can try again in the frame."),
    ("checkie:awaiting_action", "{}", "The payment needs the shopper's action (3-D Secure); the frame shows that step."),
    ("checkie:completed", '{"sessionId": "…", "paymentId": 42}',
     "The payment succeeded: the ids of the checkout session and the payment."),
    ("checkie:closed", "{}",
     "The overlay of a button embed was closed: its close button, the backdrop, or Escape "
     "(on your page or inside the checkout)."),
)


@bp.get("/docs/embeds")
def embeds():
    """How to put a checkout on your own site (no login)."""
    return render_page("docs/embeds.html", app_url=current_app.config["APP_URL"].rstrip("/"), messages=EMBED_MESSAGES)


#: When each event is sent and what its `data` holds: the object as the JSON API shows it then.
EVENT_DATA = {
    "payment.completed": "A payment was recorded. The payment, as GET /api/stores/<storeId>/payments/<id> answers it.",
    "payment.failed": "A payment attempt was declined. The checkout session, with its attempts, as "
                      "GET /api/stores/<storeId>/checkout-sessions/<id> answers it.",
    "payment.refunded": "A refund of a payment succeeded, in full or in part. The payment (its status and "
                        "amountRefunded moved), with the refund under refund, as GET …/refunds/<id> answers it.",
    "subscription.created": "A subscription started: trialing after a free trial's checkout, active after a paid one. "
                            "The subscription.",
    "subscription.renewed": "A subscription's next period was paid (a trial's end included). The subscription.",
    "subscription.cancelled": "A subscription ended: cancelled now, at the end of its period, or after its last "
                              "declined retry (cancellationReason payment_failed). The subscription.",
    "subscription.paused": "A subscription was paused. The subscription.",
    "subscription.resumed": "A paused subscription was resumed. The subscription.",
    "customer.created": "A shopper became a customer of the store. The customer.",
    "checkout.session.expired": "A checkout session expired unpaid (its time ran out, or its third attempt was declined). "
                                "The checkout session, with its attempts.",
    "payout.paid": "A payout reached the store's bank account. The payout, as GET /api/stores/<storeId>/payouts/<id> "
                   "answers it.",
    "payout.failed": "A payout failed (its amount is back in the balance). The payout, with its failureCode.",
}


@bp.get("/docs/webhooks")
def webhooks():
    """How to receive and verify Checkie's webhooks (no login)."""
    events = [(kind, EVENT_DATA[kind]) for kind in SUBSCRIBABLE_EVENTS]
    return render_page("docs/webhooks.html", events=events)
