"""The checkout of a store on Stripe (SPEC §5, §9): the card is typed into Stripe.js's card Element,
and only the token Stripe.js makes from it (`tok_…`) reaches Checkie (static/js/stripe-card.js).
What the pages need to load Stripe.js, and the Content-Security-Policy that lets them do it."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from checkie import providers
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.providers.stripe import StripeProvider

#: Where Stripe.js talks to when STRIPE_API_BASE points nowhere else.
STRIPE_API = "https://api.stripe.com"


@dataclass(frozen=True)
class StripeJs:
    """Stripe.js for one store's checkout: its publishable key ("" when the store has no keys
    yet: no card can be taken), the script's URL and the API it calls (STRIPE_JS_URL,
    STRIPE_API_BASE: localstripe in the tests)."""

    publishable_key: str
    script_url: str
    api_base: str

    def csp(self) -> dict[str, str]:
        """`content_security_policy` overrides for a page that loads Stripe.js: its script and
        the frames it inserts (the card Element, 3-D Secure) come from the script's origin; it
        calls that origin and the API's. Nothing else is added to the default policy."""
        script = origin_of(self.script_url)
        connect = dict.fromkeys(["'self'", script, origin_of(self.api_base)])
        return {"script_src": f"'self' {script}", "frame_src": f"'self' {script}", "connect_src": " ".join(connect)}


def stripe_js_for(store) -> StripeJs | None:
    """What `store`'s checkout loads Stripe.js with; None when the store is not on Stripe (the
    test provider's TEST MODE card form is shown instead)."""
    if providers.provider_name(store) != StripeProvider.name:
        return None
    config = current_app.config
    return StripeJs(providers.stripe_publishable_key(store), config["STRIPE_JS_URL"],
                    config.get("STRIPE_API_BASE") or STRIPE_API)


def confirmation_secret(attempt: PaymentAttempt | None) -> str | None:
    """The client secret Stripe.js confirms the attempt with while Stripe waits for the shopper
    (3-D Secure): a PaymentIntent's (`pi_…`) or, for a free trial, a SetupIntent's (`seti_…`)."""
    if attempt is None or attempt.provider != StripeProvider.name or attempt.status is not AttemptStatus.REQUIRES_ACTION:
        return None
    return attempt.client_secret or None


def origin_of(url: str) -> str:
    """`https://js.stripe.com` of `https://js.stripe.com/v3/`: what a CSP source names."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
