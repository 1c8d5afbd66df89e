"""The checkout for shoppers (SPEC §6.1, §9): HTML that works with JavaScript off, enhanced by
htmx, in two layouts (storefront/layouts.py) served by the same views and templates.

Hosted: `GET /c/<store>/<page>` shows the page's form and counts a view, nothing else (SPEC
§6.1: link previews and bots must not create sessions); the shopper's first save or Pay posts
to the page's own URL (`POST /c/<store>/<page>`, `…/pay`), which creates the session only if
the input is accepted, and every later step lives under `/c/s/<id>/…`. Framed: the same under
`/embed/<public id>` and `/embed/s/<id>/…`, with `?origin=` (the host page's origin, added by
static/embed.js) riding along once validated, so static/js/embed-frame.js knows where to post
its messages.

A session's page shows what fits its state: the form (open), a page that polls while the
payment is processed or waits for 3-D Secure, the receipt (completed) or a way to start again
(expired, abandoned). Saving details and paying are plain form posts (303 afterwards); with htmx
a change re-renders only the price summary (or the coupon box), the field errors out of band.

The framed blueprint sets no cookie, so it is CSRF-exempt and its forms carry no
token: the unguessable session id in the URL is the capability. Only its pages may be framed:
each of its responses sends `frame-ancestors` from the embed's allowed origins (or `*`), and no
X-Frame-Options. A site the embed does not allow (its `?origin=`) gets a message with a link to the
hosted checkout instead, which may be framed anywhere."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    g,
    make_response,
    render_template,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as AnyResponse
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired

from checkie.catalog import embeds, snapshot
from checkie.catalog.models import Embed, PageStatus
from checkie.catalog.snapshot import PageView
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.colors import BRAND_COLOR, text_color_on
from checkie.database import read_only
from checkie.errors import DomainError, NotFound
from checkie.extensions import csrf, db
from checkie.htmx_responses import render_page, request, see_other
from checkie.payments.models import AttemptStatus, PaymentAttempt
from checkie.payments.reports import checkout_payment
from checkie.payments.test_provider import (
    attempt_awaiting_authentication,
    attempt_by_token,
    finish_authentication,
)
from checkie.storefront import flow, plans, stencil
from checkie.storefront.forms import AnyCardForm, DetailsForm, variant_choices
from checkie.storefront.layouts import HOSTED, Frame, Layout, OriginNotAllowed, brand_color
from checkie.storefront.stripe_mode import stripe_js_for
from checkie.stores.models import Store
from checkie.web import content_security_policy, test_provider_route

hosted = Blueprint("storefront", __name__)
framed = Blueprint("embed", __name__)
# Called from inside merchants' iframes (authenticated by the session id in the URL): no cookies, so no CSRF.
csrf.exempt(framed)


def route(hosted_rule: str, framed_rule: str, **options):
    """Register one view under both URL families; `_load` tells it which layout it serves."""

    def register(view):
        hosted.add_url_rule(hosted_rule, view_func=view, **options)
        framed.add_url_rule(framed_rule, view_func=view, **options)
        return view

    return register


class AuthenticationForm(FlaskForm):
    #: Sent by the button pressed: `complete` or `fail`.
    outcome = HiddenField(validators=[InputRequired(), AnyOf(["complete", "fail"])])


@framed.after_request
def frame_headers(response: Response) -> Response:
    """Framing allowed to the embed's origins (`*` when it has none, or is unknown: a 404 page,
    or the message to a site the embed does not allow, may be framed anywhere); the app's hook
    only fills in what is missing."""
    embed = g.get("embed")
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors=embeds.frame_ancestors(embed) if embed else "*", **_stripe_js_sources()
    )
    response.headers.pop("X-Frame-Options", None)
    return response


@hosted.after_request
def stripe_js_headers(response: Response) -> Response:
    """A hosted page that loads Stripe.js (a store on Stripe) gets the app's policy plus the
    sources Stripe.js needs; every other page keeps the app's default (checkie.web)."""
    sources = _stripe_js_sources()
    if sources:
        response.headers["Content-Security-Policy"] = content_security_policy(**sources)
    return response


def _stripe_js_sources() -> dict[str, str]:
    stripe_js = g.get("stripe_js")
    return stripe_js.csp() if stripe_js is not None else {}


@framed.errorhandler(DomainError)
@framed.errorhandler(HTTPException)
def frame_error(error: Exception) -> Response:
    """Errors in the frame's own look: the app's error page sets a cookie (its CSRF header)."""
    status = getattr(error, "status", None) or getattr(error, "code", None) or 500
    message = getattr(error, "message", "") if status < 500 else ""
    return make_response(render_template("storefront/embed/error.html", status=status, message=message), status)


@framed.errorhandler(OriginNotAllowed)
def origin_not_allowed(error: OriginNotAllowed) -> Response:
    """A short message and a link to the hosted checkout, framed anywhere (no embed in `g`):
    it shows nothing of the checkout itself, which stays behind the embed's frame-ancestors."""
    g.pop("embed", None)
    page = error.embed.page
    html = render_template(
        "storefront/embed/not_allowed.html", status=error.status, message=error.message, embed=error.embed,
        checkout_url=url_for("storefront.page", store_slug=page.store.slug, page_slug=page.slug),
    )
    return make_response(html, error.status)


@hosted.get("/c/<store_slug>/<page_slug>")
def page(store_slug: str, page_slug: str):
    """The published page's form, with no session yet: one view counted, nothing else written."""
    return _show_page(*_load_page(store_slug=store_slug, page_slug=page_slug))


@framed.get("/embed/<public_id>")
def start(public_id: str):
    """The embed's published page in the frame, like the hosted page: a view, no session."""
    return _show_page(*_load_page(public_id=public_id))


@framed.get("/embed/<public_id>/theme.css")
def theme_css(public_id: str):
    """The brand colour as Pico's primary colour. A stylesheet of our own origin, because the
    CSP allows no inline style."""
    embed = embeds.find_embed(db.session, public_id)
    color = brand_color(embed) if embed else None
    if color is None or not BRAND_COLOR.fullmatch(color):
        raise NotFound("No theme for this embed.")
    g.embed = embed
    css = render_template("storefront/embed/theme.css", embed=embed, color=color, inverse=text_color_on(color))
    response = make_response(css, 200, {"Content-Type": "text/css; charset=utf-8"})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@route("/c/s/<session_id>", "/embed/s/<session_id>")
def show(session_id: str):
    """The session's page: an open one from its stencil (storefront/stencil.py), read in one
    statement; any other in full."""
    shown = stencil.session_to_show(session_id)
    page = snapshot.page_view(db.session, shown.page_id, shown.page_version)
    layout = _layout_of(shown)

    def load() -> CheckoutSession:
        return services.get_checkout(db.session, session_id)

    def render_in_full(checkout: CheckoutSession) -> Response:
        return _render_state(checkout, page, layout)

    return stencil.render(shown, page, layout, stripe_js_for(shown), load, render_in_full) or render_in_full(load())


@route("/c/<store_slug>/<page_slug>", "/embed/<public_id>", methods=["POST"])
def first_save(**address: str):
    """The shopper's first save creates the session, only if what they entered is accepted;
    then it goes on at the session's URLs (`_continue`)."""
    page, layout = _load_page(**address)
    form = DetailsForm.for_page(page, meta=layout.form_meta)
    form_valid = form.validate_on_submit()
    checkout = None
    if not flow.token_refused(form):
        changes = flow.accepted_changes(form, form.changes(page, request.form))
        checkout = flow.start_with_details(page, form, changes, client_info=_client_info(layout))
    if checkout is None or not form_valid:
        db.session.rollback()
        return _render_checkout(_draft(page), page, layout, form, errors=flow.form_errors(form), status=422,
                                block=_save_block(form))
    db.session.commit()
    return _continue(checkout, page, layout, form)


@route("/c/s/<session_id>", "/embed/s/<session_id>", methods=["POST"])
def save(session_id: str):
    """Save what the shopper entered. htmx gets the summary (or the coupon box) with the field
    errors out of band; a plain post is redirected (303), or re-rendered with errors (422)."""
    checkout, page, layout = _load(session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout, page, layout)
    form = DetailsForm.for_page(page, meta=layout.form_meta)
    form_valid = form.validate_on_submit()
    if flow.token_refused(form):
        return _render_checkout(checkout, page, layout, form, errors=flow.form_errors(form), status=422)
    try:
        saved = flow.save_details(checkout, form, flow.accepted_changes(form, form.changes(page, request.form)))
    except services.InvalidTransition:
        return _conflict(checkout, page, layout)
    db.session.commit()
    ok = saved.ok and form_valid
    if ok and not request.htmx and not saved.coupon_notice:
        return see_other(layout.url("show", session_id=checkout.id))
    return _render_checkout(checkout, page, layout, form, errors=flow.form_errors(form), status=200 if ok else 422,
                            block=_save_block(form), coupon_notice=saved.coupon_notice)


@route("/c/<store_slug>/<page_slug>/pay", "/embed/<public_id>/pay", methods=["POST"])
def first_pay(**address: str):
    """Pay before any save: the session is created with the payment, only if it can start."""
    page, layout = _load_page(**address)
    return _pay(None, page, layout)


@route("/c/s/<session_id>/pay", "/embed/s/<session_id>/pay", methods=["POST"])
def pay(session_id: str):
    """Check the test card first (a refused number changes nothing), save the details, then
    start the payment; the shopper lands on 3-D Secure or back on the session's page."""
    checkout, page, layout = _load(session_id)
    if checkout.state is not CheckoutState.OPEN:
        return _conflict(checkout, page, layout)
    return _pay(checkout, page, layout)


@route("/c/s/<session_id>/status", "/embed/s/<session_id>/status")
def status(session_id: str):
    """What the processing page polls (htmx, every 2 s): the same fragment while the payment
    is under way, a full-page redirect once it is decided."""
    read_only(db.session)
    checkout, page, layout = _load(session_id)
    if not request.htmx or checkout.state not in flow.WAITING:
        return see_other(layout.url("show", session_id=checkout.id))
    return render_page("storefront/checkout.html", block="status", **flow.context(checkout, page, layout))


@route("/test-provider/3ds/<action_token>", "/embed/s/<session_id>/3ds/<action_token>", methods=["GET", "POST"])
@test_provider_route
def authenticate(action_token: str, session_id: str | None = None):
    """The test provider's 3-D Secure step (SPEC §5): the shopper completes or fails
    authentication of the attempt the token addresses, then goes back to its session."""
    checkout, layout, attempt = _authentication(action_token, session_id)
    back = layout.url("show", session_id=checkout.id)
    if attempt.status is not AttemptStatus.REQUIRES_ACTION:
        return see_other(back)
    form = AuthenticationForm(meta=layout.form_meta)
    if form.validate_on_submit():
        finish_authentication(db.session, attempt, outcome=form.outcome.data)
        db.session.commit()
        return see_other(back)
    return render_page(
        "storefront/3ds.html", status=422 if form.is_submitted() else 200, form=form, authentication=attempt,
        action=layout.url("authenticate", **(request.view_args or {})), layout=layout, checkout=checkout,
        store=db.session.get(Store, checkout.store_id),
    )


# ---------------------------------------------------------------- helpers


def _load(session_id: str) -> tuple[CheckoutSession, PageView, Layout]:
    """The session, its page and the layout of the URL family asked; in the frame, only a
    session opened through an embed that still exists (NotFound for any other)."""
    checkout, page = services.checkout_and_page(db.session, session_id)
    return checkout, page, _layout_of(checkout)


def _layout_of(checkout) -> Layout:
    """The hosted layout, or in the frame the embed's: only for a session opened through an
    embed of its page that still exists (NotFound for any other)."""
    if request.blueprint != framed.name:
        return HOSTED
    embed_id = (checkout.client_info or {}).get("embedId")
    embed = embeds.find_embed(db.session, embed_id) if isinstance(embed_id, str) else None
    if embed is None or embed.page_id != checkout.page_id:
        raise NotFound("Checkout session not found.")
    return _frame(embed)


def _load_page(*, store_slug: str = "", page_slug: str = "", public_id: str | None = None
               ) -> tuple[PageView, Layout]:
    """The published page of a hosted URL, or of the embed a framed URL names (NotFound otherwise)."""
    if public_id is None:
        page = snapshot.published_page(db.session, store_slug, page_slug)
        if page is None:
            raise NotFound("Checkout page not found.")
        return page, HOSTED
    embed = embeds.find_embed(db.session, public_id)
    if embed is None:
        raise NotFound("Checkout not found.")
    layout = _frame(embed)
    page = snapshot.current_page(db.session, embed.page_id)
    if page.status is not PageStatus.PUBLISHED:
        raise NotFound("Checkout not found.")
    return page, layout


def _show_page(page: PageView, layout: Layout) -> Response:
    services.view_checkout_page(db.session, page)
    db.session.commit()
    details = DetailsForm(formdata=None, meta=layout.form_meta)
    return _render_checkout(_draft(page), page, layout, details)


def _draft(page: PageView) -> CheckoutSession:
    """The unsaved session the page's form shows, priced for the options just posted, if any."""
    return services.draft_checkout(db.session, page, variant_options=variant_choices(page, request.form))


def _client_info(layout: Layout) -> dict:
    info = flow.client_info()
    return {**info, "embedId": layout.embed.public_id} if isinstance(layout, Frame) else info


def _save_block(form: DetailsForm) -> str:
    return "coupon_update" if form.coupon_action.data else "summary_update"


def _continue(checkout: CheckoutSession, page: PageView, layout: Layout, form: DetailsForm) -> AnyResponse:
    """After the first save: a plain post goes on at the session's page; htmx gets what a save
    gets, with the controls that post pointed at the session's URLs (out of band: nothing the
    shopper is typing is replaced), and the hosted page's address follows."""
    url = layout.url("show", session_id=checkout.id)
    if not request.htmx:
        return see_other(url)
    response = _render_checkout(checkout, page, layout, form, block=_save_block(form), started=True)
    if not layout.framed:
        response.headers["HX-Push-Url"] = url
    return response


def _pay(checkout: CheckoutSession | None, page: PageView, layout: Layout) -> AnyResponse:
    details, card = DetailsForm.for_page(page, meta=layout.form_meta), flow.card_form(page, layout)
    try:
        attempt = flow.start_payment(checkout, page, details, card, client_info=_client_info(layout))
    except services.InvalidTransition:
        assert checkout is not None  # a session created by this request is open
        return _conflict(checkout, page, layout)
    if attempt is None:
        errors = {**flow.form_errors(details), **flow.form_errors(card)}
        shown = checkout if checkout is not None else _draft(page)
        return _render_checkout(shown, page, layout, details, card, errors=errors, status=422)
    paid = db.session.get_one(CheckoutSession, attempt.session_id)
    return see_other(layout.action_url(paid, attempt) or layout.url("show", session_id=paid.id))


def _authentication(action_token: str, session_id: str | None) -> tuple[CheckoutSession, Layout, PaymentAttempt]:
    """The hosted step is found by its token alone, only while it waits (NotFound after); the
    framed one must belong to the frame's session, and sends the shopper back once decided."""
    if session_id is None:
        attempt = attempt_awaiting_authentication(db.session, action_token)
        return db.session.get_one(CheckoutSession, attempt.session_id), HOSTED, attempt
    checkout, _, layout = _load(session_id)
    found = attempt_by_token(db.session, action_token)
    if found is None or found.session_id != checkout.id:
        raise NotFound("There is no payment waiting for authentication here.")
    return checkout, layout, found


def _frame(embed: Embed) -> Frame:
    g.embed = embed  # for frame_headers
    return Frame.for_request(embed)


def _render_state(checkout: CheckoutSession, page: PageView, layout: Layout) -> Response:
    if checkout.state is CheckoutState.COMPLETED:
        payment = checkout_payment(db.session, checkout)
        return render_page("storefront/success.html", payment=payment,
                           next_steps=plans.next_steps(db.session, checkout, payment), **flow.context(checkout, page, layout))
    if checkout.state in flow.ENDED:
        return render_page("storefront/expired.html", **flow.context(checkout, page, layout))
    details = DetailsForm(formdata=None, data={"email": checkout.email, "name": checkout.name}, meta=layout.form_meta)
    return _render_checkout(checkout, page, layout, details)


def _conflict(checkout: CheckoutSession, page: PageView, layout: Layout) -> AnyResponse:
    """The session moved on (paid, ended, timed out): a 409 page that says so. htmx would not
    swap a 409 (base.html's htmx config), so it goes to the session's page, which shows why."""
    db.session.rollback()
    if request.htmx:
        return see_other(layout.url("show", session_id=checkout.id))
    return render_page("storefront/expired.html", status=409, conflict=True, **flow.context(checkout, page, layout))


def _render_checkout(checkout: CheckoutSession, page: PageView, layout: Layout, details: DetailsForm,
                     card: AnyCardForm | None = None, **options) -> Response:
    card = card or flow.card_form(page, layout, formdata=None)
    return flow.render_checkout(checkout, page, layout, details, card, **options)
