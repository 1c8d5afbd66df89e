"""The checkout's steps behind the views of storefront/checkout.py, whatever the layout: saving
details, paying, and what the templates need to show a session."""
from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from flask import Response, request
from wtforms import Field, FormField

from checkie.catalog.models import Coupon
from checkie.catalog.snapshot import PageView
from checkie.checkout import pricing, services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.checkout.states import MAX_ATTEMPTS
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page
from checkie.payments.initiation import initiate_payment
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.storefront.forms import CardForm, DetailsForm
from checkie.storefront.layouts import Layout
from checkie.web import EXPIRED_FORM

WAITING = frozenset({CheckoutState.PROCESSING, CheckoutState.AWAITING_ACTION})
ENDED = frozenset({CheckoutState.EXPIRED, CheckoutState.ABANDONED})
#: Failure codes (the test provider's and Stripe's) in the shopper's words.
DECLINE_REASONS = {
    "card_declined": "Your card was declined.",
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Insufficient funds.",
    "authentication_failed": "Authentication failed.",
    "payment_intent_authentication_failure": "Authentication failed.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "The card's security code is incorrect.",
}
CONFLICT_MESSAGE = "This checkout can no longer be changed."
#: `update_checkout` arguments it checks one by one: when it refuses some, the others can be saved.
_SEPARATE_ARGUMENTS = frozenset({"email", "name", "coupon_code", "variant_options"})


def client_info() -> dict:
    return {"ip": request.remote_addr, "userAgent": request.user_agent.string[:300]}


# ---------------------------------------------------------------- steps


def save_details(checkout: CheckoutSession, form: DetailsForm, changes: dict) -> bool:
    """Save the changes; when some are invalid, save the others all the same (a bad email must
    not keep the total from following the chosen size), show the errors on `form` and answer False."""
    try:
        services.update_checkout(db.session, checkout, **changes)
        return True
    except ValidationFailed as error:
        db.session.rollback()
        refused = error
    copy_errors(form, refused)
    valid = _without_invalid(changes, refused.fields or {})
    if valid:
        try:
            services.update_checkout(db.session, services.get_checkout(db.session, checkout.id), **valid)
        except ValidationFailed:
            db.session.rollback()
    return False


def _without_invalid(changes: dict, fields: dict) -> dict:
    """`changes` minus what the service refused (`custom_fields.<key>` drops only that answer);
    nothing when it refused anything else (`custom_fields` as a whole)."""
    bad_keys = {name.partition(".")[2] for name in fields if name.startswith("custom_fields.")}
    refused = {name for name in fields if not name.startswith("custom_fields.")}
    if refused - _SEPARATE_ARGUMENTS:
        return {}
    valid = {key: value for key, value in changes.items() if key not in refused}
    if "custom_fields" in valid:
        valid["custom_fields"] = {k: v for k, v in valid["custom_fields"].items() if k not in bad_keys}
    return valid


def start_payment(checkout: CheckoutSession, page: PageView, details: DetailsForm, payment_method: str | None) -> PaymentAttempt:
    """Details first (refused: nothing saved); a session the guard refuses keeps the details."""
    try:
        services.update_checkout(db.session, checkout, **details.changes(page, request.form))
    except ValidationFailed:
        db.session.rollback()
        raise
    try:
        with db.session.begin_nested():
            attempt = initiate_payment(db.session, checkout, payment_method=payment_method)
    except ValidationFailed:
        db.session.commit()
        raise
    db.session.commit()
    return attempt


def form_errors(form) -> dict[str, list[str]]:
    """The form's errors by control name (`email`, `field_company`), and the form's own as "form"."""
    errors = {field.name: list(field.errors) for field in _controls(form) if field.errors and field.name != "csrf_token"}
    if form.errors.get("csrf_token"):
        errors["form"] = [EXPIRED_FORM]  # the one answer to a refused token (checkie.web)
    elif form.form_errors:
        errors["form"] = list(form.form_errors)
    return errors


def _controls(form) -> Iterator[Field]:
    """The form's fields, a subform's (the custom fields' answers) in its place."""
    for field in form:
        yield from field if isinstance(field, FormField) else [field]


# ---------------------------------------------------------------- rendering


def render_checkout(checkout: CheckoutSession, page: PageView, layout: Layout, details: DetailsForm,
                    card: CardForm, *, errors: dict | None = None, status: int = 200,
                    block: str | None = None) -> Response:
    """templates/storefront/checkout.html, or the block the view names for htmx."""
    submitted = request.method == "POST"
    return render_page(
        "storefront/checkout.html", block=block, status=status, details=details, card=card, errors=errors or {},
        selected=_selected(checkout, page, submitted), values=_values(checkout, page, submitted),
        **context(checkout, page, layout),
    )


def context(checkout: CheckoutSession, page: PageView, layout: Layout) -> dict:
    """What every session template shows, from the session and the cached view of its page, in
    the layout it is shown in."""
    attempt = last_attempt(checkout)
    links = layout.links(checkout, page, attempt)
    return {
        "layout": layout, "checkout": checkout, "page": page, "store": page.store, "attempt": attempt, "links": links,
        "coupon": db.session.get(Coupon, checkout.coupon_id) if checkout.coupon_id else None,
        "decline": _decline_notice(attempt), "chosen": pricing.chosen_options(page, checkout.variant_options),
        "attempts_left": max(MAX_ATTEMPTS - checkout.attempt_count, 0),
        "past_expiry": checkout.expires_at <= utcnow(), "conflict_message": CONFLICT_MESSAGE,
        "action_url": links.action,
    }


def last_attempt(checkout: CheckoutSession) -> PaymentAttempt | None:
    if not checkout.attempt_count:  # counted as each attempt is made: none yet, nothing to read
        return None
    return db.session.scalar(
        sa.select(PaymentAttempt).where(PaymentAttempt.session_id == checkout.id).order_by(PaymentAttempt.number.desc())
        .limit(1)
    )


def _decline_notice(attempt: PaymentAttempt | None) -> str | None:
    """Why the last payment failed, in words, while the session is back to open."""
    if attempt is None or attempt.status is not AttemptStatus.FAILED:
        return None
    return DECLINE_REASONS.get(attempt.failure_code or "", "Your payment did not go through.")


def _selected(checkout: CheckoutSession, page: PageView, submitted: bool) -> dict[int, int | None]:
    """{variant id: option id} to show checked: what was just posted, else what is saved."""
    saved = {int(k): v for k, v in (checkout.variant_options or {}).items()}
    if not submitted:
        return saved
    posted: dict[int, int | None] = {}
    for variant in page.variants:
        raw = request.form.get(f"variant_{variant.id}", "")
        posted[variant.id] = int(raw) if raw.isdigit() else saved.get(variant.id)
    return posted


def _values(checkout: CheckoutSession, page: PageView, submitted: bool) -> dict[str, object]:
    if not submitted:
        return dict(checkout.custom_fields or {})
    return {field.key: request.form.get(f"field_{field.key}", "") for field in page.custom_fields}
