"""The framed checkout (SPEC §6.1, §9): the hosted checkout laid out for the merchant's iframe.

`GET /embed/<public id>` opens a session on the embed's page and renders the form at once;
every later step lives under `/embed/s/<session id>/…`: saving details, paying, the polled
status, the test provider's 3-D Secure step (inside the frame, so the shopper never leaves the
merchant's page), and the success and expired views.

No cookies: a third-party iframe may not get them, so the unguessable session id in the URL is
the capability, the blueprint is CSRF-exempt (create_app) and its forms carry no token.
Only these pages may be framed: every response of the blueprint sends `frame-ancestors` from
the embed's allowed origins (or `*`), and no X-Frame-Options.

`?origin=` (the host page's origin, added by static/embed.js) rides along on every URL, once
validated, so static/js/embed-frame.js knows where to post its messages."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from flask import (
    Blueprint,
    Response,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired

from checkie.catalog import embeds, snapshot
from checkie.catalog.models import Embed
from checkie.catalog.snapshot import PageView
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import read_only
from checkie.errors import DomainError, NotFound, ValidationFailed
from checkie.extensions import db
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.payments.reports import session_payment
from checkie.payments.test_provider import attempt_by_token, finish_authentication
from checkie.providers.test import TestProvider
from checkie.storefront import flow
from checkie.storefront.forms import CardForm, DetailsForm
from checkie.web import content_security_policy, render_page, test_provider_route

bp = Blueprint("embed", __name__)

LAYOUT = "storefront/embed/layout.html"
#: Forms in the frame: no CSRF token, which would need a cookie session.
NO_CSRF = {"csrf": False}


@dataclass(frozen=True)
class Frame:
    """What the frame's layout needs: the embed, the validated host origin (None: post nothing)
    the theme (auto|light|dark) and the merchant's brand colour, if set."""

    embed: Embed
    origin: str | None

    @property
    def theme(self) -> str:
        return (self.embed.settings or {}).get("theme") or embeds.DEFAULT_THEME

    @property
    def brand_color(self) -> str | None:
        return (self.embed.settings or {}).get("brandColor")

    def url(self, endpoint: str, **values) -> str:
        return url_for(endpoint, **values, origin=self.origin)


class AuthenticationForm(FlaskForm):
    #: Sent by the button pressed: `complete` or `fail`.
    outcome = HiddenField(validators=[InputRequired(), AnyOf(["complete", "fail"])])


@bp.after_request
def frame_headers(response: Response) -> Response:
    """Framing allowed to the embed's origins (`*` when it has none, or is unknown: a 404
    page may be framed anywhere); the app's hook only fills in what is missing."""
    embed = g.get("embed")
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors=embeds.frame_ancestors(embed) if embed else "*"
    )
    response.headers.pop("X-Frame-Options", None)
    return response


@bp.errorhandler(DomainError)
@bp.errorhandler(HTTPException)
def frame_error(error: Exception) -> Response:
    """Errors in the frame's own look: the app's error page sets a cookie (its CSRF header)."""
    status = getattr(error, "status", None) or getattr(error, "code", None) or 500
    message = getattr(error, "message", "") if status < 500 else ""
    return make_response(render_template("storefront/embed/error.html", status=status, message=message), status)


@bp.get("/embed/<public_id>")
def start(public_id: str):
    """Open a session on the embed's published page (a view in PageStats) and show its form."""
    embed = embeds.find_embed(db.session, public_id)
    if embed is None:
        raise NotFound("Checkout not found.")
    g.embed = embed
    info = {**flow.client_info(), "embedId": embed.public_id}
    page = snapshot.current_page(db.session, embed.page_id)
    checkout = services.open_session(db.session, page, client_info=info)
    db.session.commit()
    return _show(checkout, page, _frame(embed))


@bp.get("/embed/<public_id>/theme.css")
def theme_css(public_id: str):
    """The brand colour as Pico's primary colour. A stylesheet of our own origin, because the
    CSP allows no inline style."""
    embed = embeds.find_embed(db.session, public_id)
    color = (embed.settings or {}).get("brandColor") if embed else None
    if color is None or not embeds.BRAND_COLOR.match(color):
        raise NotFound("No theme for this embed.")
    g.embed = embed
    css = render_template("storefront/embed/theme.css", color=color)
    response = make_response(css, 200, {"Content-Type": "text/css; charset=utf-8"})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/embed/s/<session_id>")
def session(session_id: str):
    read_only(db.session)
    checkout, page, frame = _load(session_id)
    return _show(checkout, page, frame)


@bp.post("/embed/s/<session_id>")
def save(session_id: str):
    """As the hosted page: htmx gets the summary (or coupon box), a plain post a 303."""
    checkout, page, frame = _load(session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout, page, frame)
    form = DetailsForm(meta=NO_CSRF)
    if not form.validate_on_submit():
        return _render_checkout(checkout, page, frame, form, errors=flow.form_errors(form), status=422)
    try:
        errors = flow.save_details(checkout, form.changes(page, request.form))
    except services.InvalidTransition:
        return _conflict(checkout, page, frame)
    db.session.commit()
    if not errors and not request.htmx:
        return redirect(frame.url(".session", session_id=checkout.id), 303)
    block = "coupon" if form.coupon_action.data else "summary"
    return _render_checkout(checkout, page, frame, form, errors=errors, status=422 if errors else 200, block=block)


@bp.post("/embed/s/<session_id>/pay")
def pay(session_id: str):
    """As the hosted page, but 3-D Secure stays in the frame."""
    checkout, page, frame = _load(session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout, page, frame)
    details, card = DetailsForm(meta=NO_CSRF), CardForm(meta=NO_CSRF)
    if not (card.validate_on_submit() & details.validate()):
        errors = {**flow.form_errors(details), **flow.form_errors(card)}
        return _render_checkout(checkout, page, frame, details, card, errors=errors, status=422)
    try:
        attempt = flow.start_payment(checkout, page, details, card.payment_method)
    except services.InvalidTransition:
        return _conflict(checkout, page, frame)
    except ValidationFailed as error:
        return _render_checkout(checkout, page, frame, details, card, errors=flow.service_errors(error), status=422)
    action = _action_url(checkout, frame, attempt)
    return redirect(action or frame.url(".session", session_id=checkout.id), 303)


@bp.get("/embed/s/<session_id>/status")
def status(session_id: str):
    """What the processing view polls; once decided, htmx reloads the frame's session page."""
    read_only(db.session)
    checkout, page, frame = _load(session_id)
    url = frame.url(".session", session_id=checkout.id)
    if not request.htmx:
        return redirect(url, 303)
    if checkout.state not in flow.WAITING:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return render_page("storefront/checkout.html", block="status", **_context(checkout, page, frame))


@bp.route("/embed/s/<session_id>/3ds/<action_token>", methods=["GET", "POST"])
@test_provider_route
def authenticate(session_id: str, action_token: str):
    """The test provider's 3-D Secure step inside the frame: the attempt its token addresses,
    and only when it belongs to this session."""
    checkout, page, frame = _load(session_id)
    attempt = attempt_by_token(db.session, action_token)
    if attempt is None or attempt.session_id != checkout.id:
        raise NotFound("There is no payment waiting for authentication here.")
    if attempt.status is not AttemptStatus.REQUIRES_ACTION:
        return redirect(frame.url(".session", session_id=checkout.id), 303)
    form = AuthenticationForm(meta=NO_CSRF)
    if form.validate_on_submit():
        finish_authentication(db.session, attempt, outcome=form.outcome.data)
        db.session.commit()
        return redirect(frame.url(".session", session_id=checkout.id), 303)
    return render_page("storefront/embed/3ds.html", status=422 if form.is_submitted() else 200, form=form,
                       authentication=attempt, **_context(checkout, page, frame))


# ---------------------------------------------------------------- helpers


def _frame(embed: Embed) -> Frame:
    """The frame for this request; `?origin=` kept only when it is an http(s) origin the embed
    allows (any, when it lists none)."""
    origin = embeds.normalize_origin(request.args.get("origin", ""))
    if origin and embed.allowed_origins and origin not in embed.allowed_origins:
        origin = None
    return Frame(embed, origin)


def _load(session_id: str) -> tuple[CheckoutSession, PageView, Frame]:
    """A session opened through an embed that still exists, with its page; NotFound for any other."""
    checkout, page = services.session_and_page(db.session, session_id)
    embed_id = (checkout.client_info or {}).get("embedId")
    embed = embeds.find_embed(db.session, embed_id) if isinstance(embed_id, str) else None
    if embed is None or embed.page_id != checkout.page_id:
        raise NotFound("Checkout session not found.")
    g.embed = embed
    return checkout, page, _frame(embed)


def _show(checkout: CheckoutSession, page: PageView, frame: Frame) -> Response:
    if checkout.state is CheckoutState.COMPLETED:
        payment = session_payment(db.session, checkout)
        return render_page("storefront/embed/success.html", payment=payment, **_context(checkout, page, frame))
    if checkout.state in flow.ENDED:
        return render_page("storefront/expired.html", **_context(checkout, page, frame))
    details = DetailsForm(formdata=None, data={"email": checkout.email, "name": checkout.name}, meta=NO_CSRF)
    return _render_checkout(checkout, page, frame, details)


def _conflict(checkout: CheckoutSession, page: PageView, frame: Frame) -> Response:
    db.session.rollback()
    return render_page("storefront/expired.html", status=409, conflict=True, **_context(checkout, page, frame))


def _action_url(checkout: CheckoutSession, frame: Frame, attempt: PaymentAttempt | None) -> str | None:
    """Where the shopper confirms a payment: the test provider's step in the frame, another
    provider's page as it gave it."""
    if attempt is None or attempt.status is not AttemptStatus.REQUIRES_ACTION or not attempt.next_action_url:
        return None
    if attempt.provider == TestProvider.name and attempt.action_token:
        return frame.url(".authenticate", session_id=checkout.id, action_token=attempt.action_token)
    return flow.local_url(attempt.next_action_url)


def _links(checkout: CheckoutSession, frame: Frame, attempt: PaymentAttempt | None) -> flow.Links:
    return flow.Links(
        session=frame.url(".session", session_id=checkout.id), save=frame.url(".save", session_id=checkout.id),
        pay=frame.url(".pay", session_id=checkout.id), status=frame.url(".status", session_id=checkout.id),
        start=frame.url(".start", public_id=frame.embed.public_id),
        action=_action_url(checkout, frame, attempt),
    )


def _render_checkout(checkout: CheckoutSession, page: PageView, frame: Frame, details: DetailsForm,
                     card: CardForm | None = None, **options) -> Response:
    card = card or CardForm(formdata=None, meta=NO_CSRF)
    return flow.render_checkout(checkout, page, details, card, partial(_links, checkout, frame), layout=LAYOUT,
                                frame=frame, **options)


def _context(checkout: CheckoutSession, page: PageView, frame: Frame) -> dict:
    return {**flow.context(checkout, page, partial(_links, checkout, frame)), "layout": LAYOUT, "frame": frame}
