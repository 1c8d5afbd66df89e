"""The hosted checkout (SPEC §6.1): HTML for shoppers that works with JavaScript off, enhanced
by htmx.

`GET /c/<store>/<page>` opens a session and sends the shopper to `/c/s/<id>`, which shows
what fits the session's state: the form (open), a page that polls while the payment is
processed or waits for 3-D Secure, the receipt (completed) or a way to start again (expired,
abandoned). Saving details and paying are plain form posts (303 afterwards); with htmx a
change re-renders only the price summary, and the field errors out of band.
"""
from __future__ import annotations

from functools import partial

from flask import (
    Blueprint,
    Response,
    make_response,
    redirect,
    request,
    url_for,
)

from checkie.catalog import snapshot
from checkie.catalog.snapshot import PageView
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import read_only
from checkie.errors import NotFound, ValidationFailed
from checkie.extensions import db
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.storefront import flow
from checkie.storefront.forms import CardForm, DetailsForm
from checkie.web import render_page

bp = Blueprint("storefront", __name__)


@bp.get("/c/<store_slug>/<page_slug>")
def page(store_slug: str, page_slug: str):
    """Open a new session on the published page and continue at its own URL."""
    page = snapshot.published_page(db.session, store_slug, page_slug)
    if page is None:
        raise NotFound("Checkout page not found.")
    session_id = services.open_session(db.session, page, client_info=flow.client_info()).id
    db.session.commit()  # expires the session object: keep its id, no reload to read it
    return redirect(url_for(".session", session_id=session_id), 303)


@bp.get("/c/s/<session_id>")
def session(session_id: str):
    read_only(db.session)
    checkout, page = services.session_and_page(db.session, session_id)
    if checkout.state is CheckoutState.COMPLETED:
        return render_page("storefront/success.html", **_context(checkout, page))
    if checkout.state in flow.ENDED:
        return render_page("storefront/expired.html", **_context(checkout, page))
    form = DetailsForm(formdata=None, data={"email": checkout.email, "name": checkout.name})
    return _render_checkout(checkout, page, form, CardForm(formdata=None))


@bp.post("/c/s/<session_id>")
def save(session_id: str):
    """Save what the shopper entered. htmx gets the summary (or the coupon box) with the field
    errors out of band; a plain post is redirected (303), or re-rendered with errors (422)."""
    checkout, page = services.session_and_page(db.session, session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout, page)
    form = DetailsForm()
    if not form.validate_on_submit():
        return _render_checkout(checkout, page, form, CardForm(formdata=None), errors=flow.form_errors(form),
                                status=422)
    try:
        errors = flow.save_details(checkout, form.changes(page, request.form))
    except services.InvalidTransition:
        return _conflict(checkout, page)
    db.session.commit()
    if not errors and not request.htmx:
        return redirect(url_for(".session", session_id=checkout.id), 303)
    block = "coupon" if form.coupon_action.data else "summary"
    return _render_checkout(checkout, page, form, CardForm(formdata=None), errors=errors,
                            status=422 if errors else 200, block=block)


@bp.post("/c/s/<session_id>/pay")
def pay(session_id: str):
    """Check the test card first (a refused number changes nothing), save the details, then
    start the payment; the shopper lands on 3-D Secure or back on the session's page."""
    checkout, page = services.session_and_page(db.session, session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout, page)
    details, card = DetailsForm(), CardForm()
    valid = card.validate_on_submit() & details.validate()
    if not valid:
        errors = {**flow.form_errors(details), **flow.form_errors(card)}
        return _render_checkout(checkout, page, details, card, errors=errors, status=422)
    try:
        attempt = flow.start_payment(checkout, page, details, card.payment_method)
    except services.InvalidTransition:
        return _conflict(checkout, page)
    except ValidationFailed as error:
        return _render_checkout(checkout, page, details, card, errors=flow.service_errors(error), status=422)
    if attempt.status is AttemptStatus.REQUIRES_ACTION and attempt.next_action_url:
        return redirect(flow.local_url(attempt.next_action_url), 303)
    return redirect(url_for(".session", session_id=checkout.id), 303)


@bp.get("/c/s/<session_id>/status")
def status(session_id: str):
    """What the processing page polls (htmx, every 2 s): the same fragment while the payment
    is under way, a full-page redirect once it is decided."""
    read_only(db.session)
    checkout, page = services.session_and_page(db.session, session_id)
    url = url_for(".session", session_id=checkout.id)
    if not request.htmx:
        return redirect(url, 303)
    if checkout.state not in flow.WAITING:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return render_page("storefront/checkout.html", block="status", **_context(checkout, page))


def _links(checkout: CheckoutSession, page: PageView, attempt: PaymentAttempt | None) -> flow.Links:
    return flow.Links(
        session=url_for(".session", session_id=checkout.id), save=url_for(".save", session_id=checkout.id),
        pay=url_for(".pay", session_id=checkout.id), status=url_for(".status", session_id=checkout.id),
        start=url_for(".page", store_slug=page.store.slug, page_slug=page.slug),
        action=flow.local_url(attempt.next_action_url) if attempt and attempt.next_action_url else None,
    )


def _conflict(checkout: CheckoutSession, page: PageView) -> Response:
    db.session.rollback()
    return render_page("storefront/expired.html", status=409, conflict=True, **_context(checkout, page))


def _render_checkout(checkout: CheckoutSession, page: PageView, details: DetailsForm, card: CardForm,
                     **options) -> Response:
    return flow.render_checkout(checkout, page, details, card, partial(_links, checkout, page), **options)


def _context(checkout: CheckoutSession, page: PageView) -> dict:
    return flow.context(checkout, page, partial(_links, checkout, page))
