"""The two layouts of the one checkout (storefront/checkout.py): the hosted pages under `/c/…`
and the same pages framed in a merchant's iframe under `/embed/…`.

Views and templates are shared; a layout says what differs: which URL family links lead to,
the page around the content (`framed` in storefront/layout.html), whether forms carry a CSRF
token, and where a payment waiting for 3-D Secure is confirmed."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from checkie.catalog import embeds
from checkie.catalog.models import Embed
from checkie.catalog.snapshot import PageView
from checkie.checkout.models import CheckoutSession
from checkie.errors import PermissionDenied
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.providers.test import TestProvider


@dataclass(frozen=True)
class Links:
    """Where a checkout's forms and links lead: `checkout` (its page), `save`, `pay`, `status`
    (what the processing view polls), `start` (the page's form, no session yet) and `action`
    (the 3-D Secure step of the last attempt, when it waits for one). Before the session exists,
    `save` and `pay` are the page's own URLs, which create it."""

    checkout: str
    save: str
    pay: str
    status: str
    start: str
    action: str | None = None


class OriginNotAllowed(PermissionDenied):
    """The frame was asked for from a site (`?origin=`, set by static/embed.js) that the embed does
    not allow. Framing the checkout there would only show the browser's broken-frame page (its
    `frame-ancestors` refuses that site), so the frame says so instead, on a page that may be
    framed anywhere, with a link to the hosted checkout of the same page."""

    def __init__(self, embed: Embed):
        super().__init__("This checkout can’t be shown on this site.")
        self.embed = embed


class Layout:
    """The hosted layout: the checkout on its own pages, forms protected by the cookie session's
    CSRF token, 3-D Secure wherever the provider sends the shopper."""

    #: The blueprint (storefront/checkout.py) whose endpoints the links name.
    blueprint = "storefront"
    framed = False
    csrf = True

    @property
    def form_meta(self) -> dict:
        """`meta` for the layout's Flask-WTF forms."""
        return {} if self.csrf else {"csrf": False}

    def url(self, endpoint: str, **values) -> str:
        return url_for(f"{self.blueprint}.{endpoint}", **values)

    def start_url(self, page: PageView) -> str:
        return self.url("page", store_slug=page.store.slug, page_slug=page.slug)

    def page_url(self, endpoint: str, page: PageView) -> str:
        """A URL of the page itself (`first_save`, `first_pay`): what forms post to before a session exists."""
        return self.url(endpoint, store_slug=page.store.slug, page_slug=page.slug)

    def action_url(self, checkout: CheckoutSession, attempt: PaymentAttempt | None) -> str | None:
        """Where the shopper confirms the attempt while it waits for 3-D Secure."""
        if attempt is None or attempt.status is not AttemptStatus.REQUIRES_ACTION or not attempt.next_action_url:
            return None
        return local_url(attempt.next_action_url)

    def links(self, checkout: CheckoutSession, page: PageView, attempt: PaymentAttempt | None) -> Links:
        if checkout.id is None:  # the page's form before the shopper acts: posting creates the session
            start = self.start_url(page)
            return Links(checkout=start, save=self.page_url("first_save", page), pay=self.page_url("first_pay", page),
                         status=start, start=start)
        return Links(
            checkout=self.url("show", session_id=checkout.id), save=self.url("save", session_id=checkout.id),
            pay=self.url("pay", session_id=checkout.id), status=self.url("status", session_id=checkout.id),
            start=self.start_url(page), action=self.action_url(checkout, attempt),
        )


HOSTED = Layout()


@dataclass(frozen=True)
class Frame(Layout):
    """The framed layout: the embed, and the validated host origin (None: post nothing) that
    rides along on every URL. No CSRF token: a third-party iframe may get no cookie, so the
    unguessable session id in the URL is the capability. The test provider's 3-D Secure step
    stays in the frame."""

    embed: Embed
    origin: str | None

    blueprint = "embed"
    framed = True
    csrf = False

    @classmethod
    def for_request(cls, embed: Embed) -> Frame:
        """`?origin=` kept when it is an http(s) origin (None otherwise); OriginNotAllowed when the
        embed lists its origins and this is not one of them."""
        origin = embeds.normalize_origin(request.args.get("origin", ""))
        if origin and embed.allowed_origins and origin not in embed.allowed_origins:
            raise OriginNotAllowed(embed)
        return cls(embed, origin)

    @property
    def theme(self) -> str:
        """auto|light|dark"""
        return (self.embed.settings or {}).get("theme") or embeds.DEFAULT_THEME

    @property
    def brand_color(self) -> str | None:
        return brand_color(self.embed)

    def url(self, endpoint: str, **values) -> str:
        return super().url(endpoint, **values, origin=self.origin)

    def start_url(self, page: PageView) -> str:
        return self.url("start", public_id=self.embed.public_id)

    def page_url(self, endpoint: str, page: PageView) -> str:
        return self.url(endpoint, public_id=self.embed.public_id)

    def action_url(self, checkout: CheckoutSession, attempt: PaymentAttempt | None) -> str | None:
        url = super().action_url(checkout, attempt)
        if url and attempt and attempt.provider == TestProvider.name and attempt.action_token:
            return self.url("authenticate", session_id=checkout.id, action_token=attempt.action_token)
        return url


def brand_color(embed: Embed) -> str | None:
    """The merchant's brand colour, if set (Pico's primary colour in the frame)."""
    return (embed.settings or {}).get("brand_color")


def local_url(url: str) -> str:
    """Our own pages (the test provider's 3DS page is built on APP_URL) as a path, so the shopper
    stays on the host they are using; other sites' URLs as they are."""
    base = current_app.config.get("APP_URL", "").rstrip("/")
    if base and url.startswith(base + "/"):
        return url[len(base):]
    return url
