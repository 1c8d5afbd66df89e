"""Every HTML page the app serves keeps to the Content-Security-Policy (script-src 'self';
style-src 'self'): no inline <script> bodies, no <style> elements or style="" attributes, no
on*="" handlers, hx-on or javascript: URLs; and every full page loads Pico, app.css and htmx
from /static/vendor.

Pages are found from the URL map, so a new screen is checked as soon as its route exists.
A route whose URL needs a value the `world` fixture does not have is only checked through its
404 page, with a warning naming it: give the fixture a sample value for it."""
from __future__ import annotations

import re
import warnings

import pytest
import sqlalchemy as sa

from checkie.checkout.models import CheckoutState
from checkie.customers import portal
from checkie.customers.models import PortalLinkKind
from checkie.extensions import db as _db
from checkie.notifications.models import EmailMessage
from checkie.payments.models import AttemptStatus, PayoutStatus
from checkie.webhooks import services as webhook_services
from checkie.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEvent
from tests.csp_audit import NOT_ON_BASE, audit
from tests.factories import (
    make_attempt,
    make_checkout,
    make_coupon,
    make_payout,
    make_customer,
    make_embed,
    make_field,
    make_page,
    make_payment,
    make_store,
    make_user,
)
from tests.http import login, post_form
from tests.subscription_factories import make_subscription

_EMAILED_PATH = re.compile(r"https?://[^/\s]+(/\S+)")


def _emailed_path(session, to: str, kind_hint: str) -> str:
    """The path of the link in the newest email to `to` whose link contains `kind_hint`."""
    bodies = session.scalars(
        sa.select(EmailMessage.text_body).where(EmailMessage.to_address == to).order_by(EmailMessage.id.desc())
    )
    for body in bodies:
        for path in _EMAILED_PATH.findall(body):
            if kind_hint in path:
                return path
    raise AssertionError(f"no emailed link containing {kind_hint!r} to {to}")


def _catalog(session, store) -> dict:
    """A published page with a custom field and an embed, a coupon, a paid checkout session with
    its customer and payment, a session waiting for the shopper's 3DS step, and a subscription."""
    page = make_page(session, store, title="Linen tote bag", amount=2400, description="Hand-stitched.", publish=True)
    field = make_field(session, page, label="Gift note")
    embed = make_embed(session, page)
    coupon = make_coupon(session, store, code="WELCOME10")
    customer = make_customer(session, store)
    checkout = make_checkout(session, page)
    payment = make_payment(session, store, session=checkout, customer=customer)
    authenticating = make_checkout(session, page, state=CheckoutState.AWAITING_ACTION)
    attempt = make_attempt(session, authenticating, status=AttemptStatus.REQUIRES_ACTION, intent_id="pi_test_templates")
    endpoint, _ = webhook_services.create_endpoint(
        session, store, url="https://hooks.example.com/in", events=["payment.completed"]
    )
    event = WebhookEvent(id="evt_templates", store_id=store.id, type="payment.completed", data={"id": payment.id})
    delivery = WebhookDelivery(event=event, endpoint_id=endpoint.id, status=DeliveryStatus.FAILED, attempts=6)
    session.add(delivery)
    session.flush()
    session.add(WebhookAttempt(delivery_id=delivery.id, status_code=500, duration_ms=12, response_excerpt="oops"))
    failed_payout = make_payout(session, store, status=PayoutStatus.FAILED)
    failed_payout.failure_code = "no_account"
    subscription = make_subscription(session, store, email=customer.email, page_id=page.id, discount=500,
                                     discount_duration="forever", cancel_at_period_end=True)
    _, portal_token = portal.issue_link(session, customer, kind=PortalLinkKind.MERCHANT)
    return {"subscription_id": subscription.id, "portal_token": portal_token,
            "endpoint_id": endpoint.id, "delivery_id": delivery.id, "payout_id": failed_payout.id,
            "action_token": attempt.action_token, "public_id": embed.public_id,
            "page_id": page.id, "field_id": field.id, "coupon_id": coupon.id, "session_id": checkout.id,
            "payment_id": payment.id, "customer_id": customer.id, "store_slug": store.slug, "page_slug": page.slug}


@pytest.fixture
def world(app):
    """A signed-in owner with a store, an invitation, an API key and emails with live links,
    made through the same HTTP forms a person uses. (No app context stays pushed while the
    clients make requests: they would share its `g`, and so its logged-in user.)"""
    with app.app_context():
        owner = make_user(_db.session, email="owner@example.com", name="Olive Owner", verified=True)
        store = make_store(_db.session, owner=owner, name="Acme Goods", slug="acme")
        catalog = _catalog(_db.session, store)
        _db.session.commit()
        owner_client = app.test_client()
        login(owner_client, owner)
        store_id, owner_email = store.id, owner.email
        _db.session.remove()

    team = f"/dashboard/stores/{store_id}/team"
    invitation = {"email": "invitee@example.com", "role": "viewer"}
    invited = post_form(owner_client, f"{team}/invitations", invitation, page=team)
    assert invited.status_code < 400, invited.status_code
    keys = f"/dashboard/stores/{store_id}/api-keys"
    assert post_form(owner_client, keys, {"name": "Website backend"}).status_code < 400
    visitor = app.test_client()
    sign_up = {"name": "New Person", "email": "new@example.com", "password": "a long enough password"}
    assert post_form(visitor, "/register", sign_up).status_code < 400
    assert post_form(visitor, "/forgot-password", {"email": owner_email}).status_code < 400

    with app.app_context():
        session = _db.session
        world = {
            "owner_client": owner_client,
            "uncovered": set(),
            **catalog,
            "store_id": store_id,
            "message_id": session.scalar(sa.select(sa.func.max(EmailMessage.id))),
            "tokens": {
                "auth.verify_email": _emailed_path(session, "new@example.com", "/verify-email/").rsplit("/", 1)[1],
                "auth.reset_password": _emailed_path(session, owner_email, "/reset-password/").rsplit("/", 1)[1],
                "team.accept": _emailed_path(session, "invitee@example.com", "/invitations/").rsplit("/", 1)[1],
                "portal.verify": catalog["portal_token"],
            },
        }
        session.remove()
    return world


#: An id no row has: a route whose argument this file cannot fill still renders (its 404 page).
MISSING_ID = 2**31 - 1


def _sample_args(rule, world) -> dict:
    values = {}
    for name in rule.arguments:
        if name == "token" and rule.endpoint in world["tokens"]:
            values[name] = world["tokens"][rule.endpoint]
        elif name in world:
            values[name] = world[name]
        else:
            converter = rule._converters.get(name)
            values[name] = MISSING_ID if type(converter).__name__ == "IntegerConverter" else "unknown"
            world["uncovered"].add(f"{rule.rule} (no sample <{name}>)")
    return values


def _html_pages(app, world) -> list[str]:
    """Every GET route outside the JSON API, ops probes and static files, with sample arguments."""
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if rule.endpoint.startswith(("ops.", "api-docs.")):  # probes and the JSON document
                continue
            if rule.rule.startswith("/api/") and rule.rule not in NOT_ON_BASE:
                continue
            args = _sample_args(rule, world)
            paths.append(app.url_for(rule.endpoint, **args))
            if "token" in args:  # an unknown or used link has its own page
                paths.append(app.url_for(rule.endpoint, **{**args, "token": "no-such-token"}))
    return sorted(paths)


def _check(response, path: str, problems: list[str], *, fragment: bool = False) -> bool:
    if response.mimetype != "text/html":
        response.close()  # a streamed CSV export: end its generator here, inside this test's context
        return False
    html = response.get_data(as_text=True)
    full_page = "<html" in html
    for problem in audit(html, full_page=full_page and not fragment, path=path):
        problems.append(f"{path}{' (htmx)' if fragment else ''} [{response.status_code}]: {problem}")
    return True


def test_every_page_keeps_to_the_csp_and_loads_the_vendored_assets(app, world):
    pages = _html_pages(app, world)
    assert len(pages) >= 10, pages
    if world["uncovered"]:
        warnings.warn(
            "only the 404 page was checked for these routes; give tests/test_templates.py a sample value: "
            + ", ".join(sorted(world["uncovered"])),
            stacklevel=1,
        )
    anonymous = app.test_client()
    problems: list[str] = []
    checked = 0
    for path in pages:
        for client in (anonymous, world["owner_client"]):
            for headers in ({}, {"HX-Request": "true"}):
                try:
                    response = client.get(path, headers=headers, follow_redirects=not headers)
                except Exception as error:  # the test client re-raises a view's crash
                    problems.append(f"{path}{' (htmx)' if headers else ''}: the view raised {error!r}")
                    continue
                checked += _check(response, path, problems, fragment=bool(headers))
    checked += _check(anonymous.get("/no/such/page"), "/no/such/page", problems)
    assert problems == []
    assert checked >= 2 * len(pages)


@pytest.mark.parametrize("path", ["/register", "/login", "/forgot-password", "/dashboard/stores/new"])
def test_forms_shown_again_with_errors_keep_to_the_csp(app, world, path):
    """An invalid submission re-renders the form (422, swapped by htmx) with its errors."""
    client = world["owner_client"] if path.startswith("/dashboard") else app.test_client()
    problems: list[str] = []
    for headers in ({}, {"HX-Request": "true"}):
        response = post_form(client, path, {}, headers=headers)
        assert response.status_code == 422, (path, headers, response.status_code)
        _check(response, path, problems, fragment=bool(headers))
    assert problems == []


def test_audit_catches_what_the_csp_blocks():
    page = (
        '<html><head><link rel="stylesheet" href="/static/vendor/pico-2.1.1/pico.indigo.min.css">'
        '<link rel="stylesheet" href="/static/css/app.css">'
        '<script src="/static/vendor/htmx-2.0.11/htmx.min.js"></script>'
        '<script src="https://cdn.example/x.js"></script><style>p{}</style></head>'
        '<body><p style="color:red" onclick="go()">x</p><a href="javascript:void(0)">y</a>'
        '<div hx-on:click="alert(1)"></div><script>alert(1)</script></body></html>'
    )
    problems = audit(page, full_page=True, path="/x")
    assert len(problems) == 8, problems
    assert audit(page.replace("htmx.min.js", "other.js"), full_page=True, path="/x")[-2].startswith("no htmx")
