"""The customer portal's pages (SPEC §6.4): sign in by magic link, purchases and receipts,
subscriptions and what the store lets customers do to them, sign out.

Asking for a link answers the same page whether or not the address bought here, and is rate
limited per IP and per address (the accounts' limits, a scope of the portal's own). Opening a
link (GET) only shows a "Sign in" button, because mail scanners prefetch links; its POST
consumes the link and starts a portal session (checkie.portal.guards). Every other page is for
the signed-in customer of the URL's store only, and none is cached: they show a person's
purchases."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from checkie.accounts import limits
from checkie.colors import BRAND_COLOR, text_color_on
from checkie.customers import portal
from checkie.customers.models import Customer
from checkie.errors import DomainError, NotFound
from checkie.extensions import db, limiter
from checkie.htmx_responses import render_page, see_other
from checkie.portal.forms import AccessForm, ButtonForm, CancelForm
from checkie.portal.guards import find_store, forget, portal_required, remember, store_by_slug, store_of_link
from checkie.stores.models import Store
from checkie.subscriptions import self_service, services
from checkie.subscriptions.actions import Action, IllegalAction
from checkie.subscriptions.models import Subscription
from checkie.web import handle_csrf_error

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: The URL's action name → the self-service call and the table's action it is.
ACTIONS = {
    "cancel": (self_service.cancel, Action.CANCEL_AT_PERIOD_END),
    "uncancel": (self_service.uncancel, Action.UNCANCEL),
    "pause": (self_service.pause, Action.PAUSE),
    "resume": (self_service.resume, Action.RESUME),
}
ACTION_NAMES = {action: name for name, (_, action) in ACTIONS.items()}


@bp.after_request
def never_cache(response: Response) -> Response:
    """A customer's purchases must not stay in a shared computer's cache after signing out."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(CSRFError)
def expired_form(error: CSRFError):
    return handle_csrf_error(error)


@bp.errorhandler(DomainError)
@bp.errorhandler(HTTPException)
def portal_error(error: Exception) -> Response:
    """Errors in the store's look (its name, when the URL named a store), never the dashboard's."""
    status = getattr(error, "status", None) or getattr(error, "code", None) or 500
    message = error.message if isinstance(error, DomainError) and status < 500 else ""
    store = g.get("portal_store") or find_store((request.view_args or {}).get("store_slug"))
    html = render_template("portal/error.html", status=status, message=message, store=store)
    response = make_response(html, status)
    if isinstance(error, HTTPException):
        response.headers.update({k: v for k, v in error.get_headers() if k.lower() != "content-type"})
    return response


def _submitted_email() -> str:
    """The per-address limit's key: the address as typed, normalised, else the client's IP."""
    return limits.email_key(request.form.get("email")) or get_remote_address()


@bp.route("/<store_slug>/", methods=["GET", "POST"])
@limiter.limit(limits.PER_IP, methods=["POST"])
@limiter.shared_limit(limits.PER_EMAIL, portal.ACCESS_EMAIL_SCOPE, key_func=_submitted_email, methods=["POST"])
def sign_in(store_slug: str):
    """Ask for a sign-in link: the same answer for every address (SPEC §9)."""
    store = store_by_slug(store_slug)
    form = AccessForm()
    if form.validate_on_submit():
        portal.request_access(db.session, store, form.email.data, app_url=current_app.config["APP_URL"])
        db.session.commit()
        return render_page("portal/sign_in.html", store=store, form=form, sent_to=form.email.data.strip())
    return render_page("portal/sign_in.html", store=store, form=form, status=422 if form.is_submitted() else 200)


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    """GET shows the store's name and a "Sign in" button and changes nothing; the button's POST
    consumes the link, starts the portal session and lands on the portal's home."""
    form = ButtonForm()
    try:
        link = portal.link_for_token(db.session, token)
        store = db.session.get_one(Store, link.store_id)
        g.portal_store = store
        if not form.validate_on_submit():
            return render_page("portal/verify.html", store=store, form=form)
        _, session_token = portal.sign_in(db.session, token)
    except portal.LinkRefused as refused:
        db.session.rollback()
        return _refused_link(token, refused)
    remember(session_token)
    db.session.commit()
    return see_other(url_for("portal.home", store_slug=store.slug))


def _refused_link(token: str, refused: portal.LinkRefused) -> Response:
    """Why the link cannot sign in, and where to ask for a new one (the store's sign-in page,
    when the link is one we know)."""
    known = refused.problem is not portal.LinkProblem.UNKNOWN
    store = store_of_link(token) if known else None
    return render_page("portal/link_refused.html", store=store, refused=refused, status=410 if known else 404)


@bp.get("/<store_slug>/home")
@portal_required
def home(store: Store, customer: Customer):
    subscriptions = self_service.subscriptions_of(db.session, customer)
    return render_page(
        "portal/home.html", store=store, customer=customer, purchases=self_service.purchases_of(db.session, customer),
        subscriptions=subscriptions, titles=services.titles_of(db.session, subscriptions),
        price_text=services.price_text,
    )


@bp.get("/<store_slug>/purchases/<int:payment_id>/receipt")
@portal_required
def receipt(store: Store, customer: Customer, payment_id: int):
    """The printable receipt of one of the customer's purchases (404 for anyone else's)."""
    return render_template("portal/receipt.html", receipt=self_service.receipt_of(db.session, customer, payment_id),
                           back_url=url_for("portal.home", store_slug=store.slug))


@bp.get("/<store_slug>/subscriptions/<int:subscription_id>")
@portal_required
def subscription(store: Store, customer: Customer, subscription_id: int):
    return _render_subscription(store, self_service.subscription_of(db.session, customer, subscription_id))


@bp.post("/<store_slug>/subscriptions/<int:subscription_id>/<action>")
@portal_required
def act(store: Store, customer: Customer, subscription_id: int, action: str):
    """Cancel (at the period's end, with an optional reason), keep, pause or resume, as the
    store allows (403 otherwise) and the subscription's status allows (409 otherwise)."""
    perform, table_action = ACTIONS.get(action) or abort(404)
    chosen = self_service.subscription_of(db.session, customer, subscription_id)
    form = CancelForm() if action == "cancel" else ButtonForm()
    if not form.validate_on_submit():
        return _render_subscription(store, chosen, cancel_form=form if action == "cancel" else None, status=422)
    options = {"reason": form.reason.data or None} if isinstance(form, CancelForm) else {}
    try:
        chosen = perform(db.session, store, chosen, **options)
    except IllegalAction as refused:
        db.session.rollback()
        return _render_subscription(store, chosen, refusal=refused.message, status=409)
    db.session.commit()
    flash(_outcome(table_action, chosen), "success")
    return see_other(url_for("portal.subscription", store_slug=store.slug, subscription_id=chosen.id))


def _render_subscription(store: Store, chosen: Subscription, *, cancel_form: CancelForm | None = None,
                         refusal: str | None = None, status: int = 200) -> Response:
    offered = [ACTION_NAMES[action] for action in self_service.offered(store, chosen) if action in ACTION_NAMES]
    return render_page(
        "portal/subscription.html", status=status, store=store, subscription=chosen, offered=offered,
        title=services.title_of(db.session, chosen), price=services.price_text(chosen),
        cancel_form=cancel_form or CancelForm(formdata=None), button_form=ButtonForm(formdata=None), refusal=refusal,
    )


def _outcome(action: Action, chosen: Subscription) -> str:
    """The flash after an action, in the customer's words, saying what happens next."""
    period_end = chosen.current_period_end.strftime("%d %b %Y")
    return {
        Action.CANCEL_AT_PERIOD_END: f"Your subscription is cancelled: it runs until {period_end} and is not renewed.",
        Action.UNCANCEL: f"Your subscription is kept; it renews on {period_end}.",
        Action.PAUSE: "Your subscription is paused; nothing is charged until you resume it.",
        Action.RESUME: f"Your subscription is active again; it renews on {period_end}.",
    }[action]


@bp.post("/<store_slug>/sign-out")
def sign_out(store_slug: str):
    """End the portal session on the server too, so a copy of the cookie stops working."""
    store = store_by_slug(store_slug)
    forget()
    db.session.commit()
    flash("You are signed out.", "info")
    return see_other(url_for("portal.sign_in", store_slug=store.slug))


@bp.get("/<store_slug>/theme.css")
def theme_css(store_slug: str):
    """The store's brand colour as Pico's primary colour: a stylesheet of our own origin,
    because the CSP allows no inline style."""
    store = store_by_slug(store_slug)
    color = store.brand_color or ""
    if not BRAND_COLOR.fullmatch(color):  # stored lower-cased by stores.services.check_brand_color
        raise NotFound("This store has no brand colour.")
    css = render_template("portal/theme.css", color=color, inverse=text_color_on(color))
    response = make_response(css, 200, {"Content-Type": "text/css; charset=utf-8"})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
