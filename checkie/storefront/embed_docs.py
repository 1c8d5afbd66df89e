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


#: What an event's `data` holds, by the first part of its type: the object as the JSON API shows it.
EVENT_DATA = {
    "payment": "The payment, in the JSON API's shape (its id, status, amount and currency in minor units, customer…).",
    "subscription": "The subscription, in the JSON API's shape.",
    "customer": "The customer, in the JSON API's shape (its id, email, name…).",
    "checkout": "The checkout session, in the JSON API's shape (its id, status, page…).",
    "payout": "The payout, in the JSON API's shape.",
}


@bp.get("/docs/webhooks")
def webhooks():
    """How to receive and verify Checkie's webhooks (no login)."""
    events = [(kind, EVENT_DATA[kind.split(".")[0]]) for kind in SUBSCRIBABLE_EVENTS]
    return render_page("docs/webhooks.html", events=events)
