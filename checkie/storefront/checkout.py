"""The hosted checkout (SPEC §6.1): HTML for shoppers that works with JavaScript off, enhanced
by htmx.

`GET /c/<store>/<page>` opens a session and sends the shopper to `/c/s/<id>`, which shows
what fits the session's state: the form (open), a page that polls while the payment is
processed or waits for 3-D Secure, the receipt (completed) or a way to start again (expired,
abandoned). Saving details and paying are plain form posts (303 afterwards); with htmx a
change re-renders only the price summary, and the field errors out of band.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    request,
    url_for,
)

from checkie.catalog.models import Coupon, Page, PageStatus
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.checkout.states import MAX_ATTEMPTS
from checkie.database import utcnow
from checkie.errors import NotFound, ValidationFailed
from checkie.extensions import db
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.storefront.forms import CardForm, DetailsForm, control_errors
from checkie.stores.models import Store
from checkie.web import render_page

bp = Blueprint("storefront", __name__)

_WAITING = frozenset({CheckoutState.PROCESSING, CheckoutState.AWAITING_ACTION})
_ENDED = frozenset({CheckoutState.EXPIRED, CheckoutState.ABANDONED})
#: Failure codes (the test provider's and Stripe's) in the shopper's words.
_DECLINE_REASONS = {
    "card_declined": "Your card was declined.",
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Insufficient funds.",
    "authentication_failed": "Authentication failed.",
    "payment_intent_authentication_failure": "Authentication failed.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "The card's security code is incorrect.",
}
CONFLICT_MESSAGE = "This checkout can no longer be changed."


@bp.get("/c/<store_slug>/<page_slug>")
def page(store_slug: str, page_slug: str):
    """Open a new session on the published page and continue at its own URL."""
    checkout = services.open_session(db.session, _published_page(store_slug, page_slug), client_info=_client_info())
    db.session.commit()
    return redirect(url_for(".session", session_id=checkout.id), 303)


@bp.get("/c/s/<session_id>")
def session(session_id: str):
    checkout = services.get_session(db.session, session_id)
    if checkout.state is CheckoutState.COMPLETED:
        return render_page("storefront/success.html", **_context(checkout))
    if checkout.state in _ENDED:
        return render_page("storefront/expired.html", **_context(checkout))
    form = DetailsForm(formdata=None, data={"email": checkout.email, "name": checkout.name})
    return _render_checkout(checkout, form, CardForm(formdata=None))


@bp.post("/c/s/<session_id>")
def save(session_id: str):
    """Save what the shopper entered. htmx gets the summary (or the coupon box) with the field
    errors out of band; a plain post is redirected (303), or re-rendered with errors (422)."""
    checkout = services.get_session(db.session, session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout)
    form = DetailsForm()
    if not form.validate_on_submit():
        return _render_checkout(checkout, form, CardForm(formdata=None), errors=_form_errors(form), status=422)
    try:
        errors = _save_details(checkout, form.changes(checkout.page, request.form))
    except services.InvalidTransition:
        return _conflict(checkout)
    db.session.commit()
    if not errors and not request.htmx:
        return redirect(url_for(".session", session_id=checkout.id), 303)
    block = "coupon" if form.coupon_action.data else "summary"
    return _render_checkout(checkout, form, CardForm(formdata=None), errors=errors, status=422 if errors else 200,
                            block=block)


@bp.post("/c/s/<session_id>/pay")
def pay(session_id: str):
    """Check the test card first (a refused number changes nothing), save the details, then
    start the payment; the shopper lands on 3-D Secure or back on the session's page."""
    checkout = services.get_session(db.session, session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout)
    details, card = DetailsForm(), CardForm()
    valid = card.validate_on_submit() & details.validate()
    if not valid:
        errors = {**_form_errors(details), **_form_errors(card)}
        return _render_checkout(checkout, details, card, errors=errors, status=422)
    try:
        attempt = _pay(checkout, details, card.payment_method)
    except services.InvalidTransition:
        return _conflict(checkout)
    except ValidationFailed as error:
        return _render_checkout(checkout, details, card, errors=_service_errors(error), status=422)
    if attempt.status is AttemptStatus.REQUIRES_ACTION and attempt.next_action_url:
        return _see_other(local_url(attempt.next_action_url))
    return _see_other(url_for(".session", session_id=checkout.id))


@bp.get("/c/s/<session_id>/status")
def status(session_id: str):
    """What the processing page polls (htmx, every 2 s): the same fragment while the payment
    is under way, a full-page redirect once it is decided."""
    checkout = services.get_session(db.session, session_id)
    url = url_for(".session", session_id=checkout.id)
    if not request.htmx:
        return redirect(url, 303)
    if checkout.state not in _WAITING:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return render_page("storefront/checkout.html", block="status", **_context(checkout))


# ---------------------------------------------------------------- steps


def _published_page(store_slug: str, page_slug: str) -> Page:
    page = db.session.scalar(
        sa.select(Page).join(Store, Store.id == Page.store_id)
        .where(Store.slug == store_slug, Page.slug == page_slug, Page.status == PageStatus.PUBLISHED)
    )
    if page is None:
        raise NotFound("Checkout page not found.")
    return page


def _client_info() -> dict:
    return {"ip": request.remote_addr, "userAgent": request.user_agent.string[:300]}


def _save_details(checkout: CheckoutSession, changes: dict) -> dict[str, list[str]]:
    """Save the changes; when some are invalid, save the others all the same (a bad email must
    not keep the total from following the chosen size) and return the errors by control."""
    try:
        services.update_session(db.session, checkout, **changes)
        return {}
    except ValidationFailed as error:
        db.session.rollback()
        refused = error
    errors = _service_errors(refused)
    valid = _without_invalid(changes, refused.fields or {})
    if valid:
        try:
            services.update_session(db.session, services.get_session(db.session, checkout.id), **valid)
        except ValidationFailed:
            db.session.rollback()
    return errors


def _without_invalid(changes: dict, fields: dict) -> dict:
    """`changes` minus what the service refused (`customFields.<key>` drops only that answer)."""
    names = {"email": "email", "name": "name", "couponCode": "coupon_code", "variantOptions": "variant_options"}
    bad_keys = {name.partition(".")[2] for name in fields if name.startswith("customFields.")}
    if "customFields" in fields or any(name not in names and not name.startswith("customFields.") for name in fields):
        return {}
    valid = {key: value for key, value in changes.items() if key not in {names[n] for n in fields if n in names}}
    if "custom_fields" in valid:
        valid["custom_fields"] = {k: v for k, v in valid["custom_fields"].items() if k not in bad_keys}
    return valid


def _pay(checkout: CheckoutSession, details: DetailsForm, payment_method: str) -> PaymentAttempt:
    """Details first (refused: nothing saved); a session the guard refuses keeps the details."""
    try:
        services.update_session(db.session, checkout, **details.changes(checkout.page, request.form))
    except ValidationFailed:
        db.session.rollback()
        raise
    try:
        with db.session.begin_nested():
            attempt = services.initiate_payment(db.session, checkout, payment_method=payment_method)
    except ValidationFailed:
        db.session.commit()
        raise
    db.session.commit()
    return attempt


def local_url(url: str) -> str:
    """Our own pages (the test provider's 3DS page is built on APP_URL) as a path, so the shopper
    stays on the host they are using; other sites' URLs as they are."""
    base = current_app.config.get("APP_URL", "").rstrip("/")
    if base and url.startswith(base + "/"):
        return url[len(base):]
    return url


def _form_errors(form) -> dict[str, list[str]]:
    errors = {name: list(messages) for name, messages in form.errors.items() if name != "csrf_token"}
    if form.errors.get("csrf_token"):
        errors["form"] = ["This form has expired. Please try again."]
    return errors


def _service_errors(error: ValidationFailed) -> dict[str, list[str]]:
    by_control, general = control_errors(error.fields)
    if general or not by_control:
        by_control["form"] = general or [error.message]
    return by_control


def _see_other(url: str) -> Response:
    return redirect(url, 303)


def _conflict(checkout: CheckoutSession) -> Response:
    db.session.rollback()
    return render_page("storefront/expired.html", status=409, conflict=True, **_context(checkout))


# ---------------------------------------------------------------- rendering


def _render_checkout(checkout: CheckoutSession, details: DetailsForm, card: CardForm, *, errors: dict | None = None,
                     status: int = 200, block: str | None = None) -> Response:
    submitted = request.method == "POST"
    return render_page(
        "storefront/checkout.html", block=block, status=status, details=details, card=card, errors=errors or {},
        selected=_selected(checkout, submitted), values=_values(checkout, submitted), **_context(checkout),
    )


def _context(checkout: CheckoutSession) -> dict:
    page = checkout.page
    attempt = _last_attempt(checkout)
    return {
        "checkout": checkout, "page": page, "store": page.store, "attempt": attempt,
        "coupon": db.session.get(Coupon, checkout.coupon_id) if checkout.coupon_id else None,
        "decline": _decline_notice(checkout, attempt), "chosen": _chosen_options(checkout),
        "attempts_left": max(MAX_ATTEMPTS - checkout.attempt_count, 0),
        "past_expiry": checkout.expires_at <= utcnow(), "conflict_message": CONFLICT_MESSAGE,
        "action_url": local_url(attempt.next_action_url) if attempt and attempt.next_action_url else None,
    }


def _last_attempt(checkout: CheckoutSession) -> PaymentAttempt | None:
    return db.session.scalar(
        sa.select(PaymentAttempt).where(PaymentAttempt.session_id == checkout.id).order_by(PaymentAttempt.number.desc())
        .limit(1)
    )


def _decline_notice(checkout: CheckoutSession, attempt: PaymentAttempt | None) -> str | None:
    """Why the last payment failed, in words, while the session is back to open."""
    if attempt is None or attempt.status is not AttemptStatus.FAILED:
        return None
    return _DECLINE_REASONS.get(attempt.failure_code or "", "Your payment did not go through.")


def _chosen_options(checkout: CheckoutSession) -> list[tuple[str, str]]:
    """[(variant name, option name)] of the session's choice, in the page's order."""
    chosen = checkout.variant_options or {}
    return [
        (variant.name, option.name)
        for variant in checkout.page.variants for option in variant.options
        if chosen.get(str(variant.id)) == option.id
    ]


def _selected(checkout: CheckoutSession, submitted: bool) -> dict[int, int]:
    """{variant id: option id} to show checked: what was just posted, else what is saved."""
    saved = {int(k): v for k, v in (checkout.variant_options or {}).items()}
    if not submitted:
        return saved
    posted = {}
    for variant in checkout.page.variants:
        raw = request.form.get(f"variant_{variant.id}", "")
        posted[variant.id] = int(raw) if raw.isdigit() else saved.get(variant.id)
    return posted


def _values(checkout: CheckoutSession, submitted: bool) -> dict[str, object]:
    if not submitted:
        return dict(checkout.custom_fields or {})
    return {field.key: request.form.get(f"field_{field.key}", "") for field in checkout.page.custom_fields}
