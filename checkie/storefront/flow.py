"""The checkout's steps behind the views of storefront/checkout.py, whatever the layout: saving
details, paying, and what the templates need to show a session."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, g, request
from wtforms import Field, FormField

from checkie import providers
from checkie.catalog.models import Coupon
from checkie.catalog.snapshot import PageView
from checkie.checkout import pricing, services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.checkout.pricing import RemovedCoupon
from checkie.checkout.states import MAX_ATTEMPTS
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page
from checkie.payments.initiation import initiate_payment
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.storefront import plans
from checkie.storefront.forms import AnyCardForm, CardForm, DetailsForm, StripeCardForm
from checkie.storefront.layouts import Layout
from checkie.storefront.stripe_mode import confirmation_secret, stripe_js_for
from checkie.stores.models import Store
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


@dataclass(frozen=True)
class Saved:
    """How a save went: `ok` when everything was accepted, and what the shopper must be told
    beside the coupon box (a coupon the new selection dropped)."""

    ok: bool
    coupon_notice: str | None = None


def save_details(checkout: CheckoutSession, form: DetailsForm, changes: dict) -> Saved:
    """Save the changes; when some are invalid, save the others all the same (a bad email must
    not keep the total from following the chosen size) and show the errors on `form`."""
    refused, removed = _save_what_is_valid(checkout, changes)
    if refused is not None:
        copy_errors(form, refused)
    return Saved(refused is None, removed.message if removed else None)


def start_with_details(page: PageView, form: DetailsForm, changes: dict, *, client_info: dict) -> CheckoutSession | None:
    """The shopper's first save creates the session with what they entered. When the service
    refuses any of it (errors on `form`), nothing at all is written: None."""
    checkout = services.start_checkout(db.session, page, client_info=client_info)
    try:
        services.update_checkout(db.session, checkout, **changes)
    except ValidationFailed as refused:
        db.session.rollback()
        copy_errors(form, refused)
        return None
    return checkout


def accepted_changes(form: DetailsForm, changes: dict) -> dict:
    """`changes` minus what the form itself refused (too long), so the service can report the
    rest: every error is shown at once."""
    return {key: value for key, value in changes.items() if not (key in form and form[key].errors)}


def _save_what_is_valid(checkout: CheckoutSession, changes: dict) -> tuple[ValidationFailed | None, RemovedCoupon | None]:
    """Apply `changes`, or what the service accepts of them when it refuses some; each try runs
    in a savepoint, so a refused one leaves nothing behind. The refusal and the dropped coupon."""
    try:
        with db.session.begin_nested():
            return None, services.change_checkout(db.session, checkout, **changes).removed_coupon
    except ValidationFailed as error:
        refused = error
    valid = _without_invalid(changes, refused.fields or {})
    if not valid:
        return refused, None
    try:
        with db.session.begin_nested():
            return refused, services.change_checkout(db.session, checkout, **valid).removed_coupon
    except ValidationFailed:
        return refused, None


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


def card_form(page: PageView, layout: Layout, **options) -> AnyCardForm:
    """The store's card form: in Stripe mode the token Stripe.js made of the card Element (what
    the store's provider accepts, asked only when a token is posted: showing the form needs no
    provider), else the TEST MODE card form."""
    store = db.session.get_one(Store, page.store_id)
    if stripe_js_for(store) is None:
        return CardForm(meta=layout.form_meta, **options)
    return StripeCardForm(meta=layout.form_meta, accepts=lambda value: providers.for_store(store).accepts_payment_method(value),
                          **options)


def start_payment(checkout: CheckoutSession | None, page: PageView, details: DetailsForm, card: AnyCardForm, *,
                  client_info: dict) -> PaymentAttempt | None:
    """Pay, on the session or (None) on a session created now, or show every problem at once:
    None then, with the errors on the forms — the card's and the details' own, the details the
    service refuses, and what the payment guard (SPEC §4) finds missing in the rest. Nothing is
    written when refused, except that an existing session which only the guard refuses keeps
    the details (the shopper's typing is not lost)."""
    forms_valid = card.validate_on_submit() & details.validate()
    if token_refused(details) or token_refused(card):
        return None  # a forged or stale form: the service is not asked anything
    new_session = checkout is None
    if checkout is None:
        checkout = services.start_checkout(db.session, page, client_info=client_info)
    saved, payable = _save_for_payment(checkout, page, details)
    attempt = _initiate(checkout, details, card) if forms_valid and payable else None
    if attempt is not None or (saved and forms_valid and not new_session):
        db.session.commit()  # paying, or the guard alone refused: the details are kept
    else:
        db.session.rollback()
    return attempt


def _save_for_payment(checkout: CheckoutSession, page: PageView, details: DetailsForm) -> tuple[bool, bool]:
    """Save the details and put on `details` every reason a payment cannot start: what the
    service refuses of them and what the payment guard finds missing in the rest. Answers
    (the details were all saved, the session can be paid)."""
    refused, _ = _save_what_is_valid(checkout, details.changes(page, request.form))
    problems = services.payment_problems(db.session, checkout)
    for error in (refused, ValidationFailed("This checkout cannot be paid yet.", fields=problems)):
        if error is not None and error.fields:
            copy_errors(details, error)
    return refused is None, refused is None and not problems


def _initiate(checkout: CheckoutSession, details: DetailsForm, card: AnyCardForm) -> PaymentAttempt | None:
    """The payment attempt, or None with the reason on `details` (e.g. the coupon ran out)."""
    try:
        with db.session.begin_nested():
            return initiate_payment(db.session, checkout, payment_method=card.payment_method)
    except ValidationFailed as error:
        copy_errors(details, error)
        return None


def token_refused(form) -> bool:
    """Whether Flask-WTF refused the form's CSRF token (the hosted layout's forms carry one)."""
    return bool(form.errors.get("csrf_token"))


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
                    card: AnyCardForm, *, errors: dict | None = None, status: int = 200,
                    block: str | None = None, coupon_notice: str | None = None, started: bool = False) -> Response:
    """templates/storefront/checkout.html, or the block the view names for htmx. `coupon_notice`
    is shown beside the coupon box (a coupon the shopper's change dropped); `started`: this
    request created the session (htmx must post to its URLs from now on). A store on Stripe
    gets Stripe.js's card Element instead of the TEST MODE card form; `g.stripe_js` tells the
    blueprint's response hook to let the page load it (stripe_mode.StripeJs.csp)."""
    submitted = request.method == "POST"
    g.stripe_js = stripe_js_for(db.session.get_one(Store, checkout.store_id))
    return render_page(
        "storefront/checkout.html", block=block, status=status, details=details, card=card, errors=errors or {},
        coupon_notice=coupon_notice, started=started, stripe_js=g.stripe_js,
        selected=_selected(checkout, page, submitted), values=_values(checkout, page, submitted),
        **context(checkout, page, layout),
    )


def context(checkout: CheckoutSession, page: PageView, layout: Layout) -> dict:
    """What every session template shows, from the session and the cached view of its page, in
    the layout it is shown in."""
    attempt = last_attempt(checkout)
    links = layout.links(checkout, page, attempt)
    decline = _decline_notice(attempt)
    attempts_left = max(MAX_ATTEMPTS - checkout.attempt_count, 0)
    coupon = db.session.get(Coupon, checkout.coupon_id) if checkout.coupon_id else None
    return {
        "layout": layout, "checkout": checkout, "page": page, "store": page.store, "attempt": attempt, "links": links,
        "coupon": coupon, "plan": plans.plan_of(db.session, checkout, page, coupon),
        "decline": decline, "chosen": pricing.chosen_options(page, checkout.variant_options),
        "attempts_left": attempts_left, "max_attempts": MAX_ATTEMPTS,
        # SPEC §4 can_retry: the last failure ended the session, not the clock
        "attempts_ran_out": checkout.state is CheckoutState.EXPIRED and decline is not None and not attempts_left,
        "past_expiry": checkout.expires_at <= utcnow(), "conflict_message": CONFLICT_MESSAGE,
        "action_url": links.action,
        # Stripe.js confirms it in the page (3-D Secure), static/js/stripe-card.js
        "stripe_confirmation": confirmation_secret(attempt),
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
