"""The public widget JSON API (SPEC §6.2): what `embed.js` and merchants' own front ends call
from shoppers' browsers to open a checkout, fill it in, check a coupon and pay.

No cookies, no CSRF (exempt in create_app), any origin (CORS `*` without credentials). Every
route is rate limited per client IP, and the routes about one session per session id too,
with `WIDGET_RATE_LIMIT` read at request time. A session id is the only credential: a session
answers about itself and nothing else; an unknown id is a 404. The rules live in
`checkie.checkout.services`; views load, call one service, commit and shape the answer
(`widget_responses`); bodies are read by `widget_requests`."""
from __future__ import annotations

from flask import Response, current_app, jsonify, make_response, request
from flask_limiter.util import get_remote_address

from checkie.api import idempotency
from checkie.api import widget_requests as requests
from checkie.api import widget_responses as responses
from checkie.api import widget_schemas as schemas
from checkie.api.errors import ApiBlueprint
from checkie.catalog.coupons import evaluate_coupon
from checkie.checkout import services
from checkie.checkout.idempotency import KEY_MAX_LENGTH
from checkie.database import read_only
from checkie.errors import ValidationFailed
from checkie.extensions import db, limiter
from checkie.payments.initiation import initiate_payment

bp = ApiBlueprint(
    "widget", __name__, url_prefix="/api/widget",
    description="The public widget API (no authentication; any origin; rate limited per IP and per session): "
    "what embed.js and merchants' own front ends call from shoppers' browsers to open a checkout, fill it in "
    "and pay. The session id is the only credential; an unknown one is a 404.",
)

PREFIX = "/api/widget/"
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
    "Access-Control-Max-Age": "600",
}
LIMITED_METHODS = ["GET", "POST", "PATCH"]


# ---------- CORS and rate limits ----------

@bp.before_request
def answer_preflight() -> Response | None:
    """A browser's CORS preflight: 204 with what the widget accepts (no body, no rate limit)."""
    if request.method == "OPTIONS":
        response = make_response("", 204)
        response.headers.update(CORS_HEADERS)
        return response
    return None


@bp.after_app_request
def allow_any_origin(response: Response) -> Response:
    """Every widget answer, errors and 429s included (also for unknown widget URLs), may be
    read by any site: the API is public and uses no cookies, so `*` without credentials."""
    if request.path.startswith(PREFIX):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "Idempotent-Replayed, Retry-After"
    return response


def widget_rate_limit() -> str:
    return current_app.config["WIDGET_RATE_LIMIT"]


def _session_key() -> str:
    """The session a request is about (from the URL, else the JSON body), else the client IP."""
    session_id = (request.view_args or {}).get("session_id")
    if session_id is None:
        body = request.get_json(silent=True)
        session_id = body.get("sessionId") if isinstance(body, dict) else None
    if not isinstance(session_id, str) or not session_id:
        return get_remote_address()
    return f"session:{session_id[:64]}"  # ids are at most 64 characters; longer input is not one


per_ip = limiter.limit(widget_rate_limit, methods=LIMITED_METHODS)
per_session = limiter.limit(widget_rate_limit, key_func=_session_key, methods=LIMITED_METHODS)


def _client_info() -> dict:
    return {"ip": request.remote_addr, "userAgent": request.user_agent.string[:500]}


def _body(schema: type) -> dict:
    return {"requestBody": {"required": False, "content": {"application/json": {"schema": schema}}}}


#: The `Idempotency-Key` header POST /checkout honours (same key and body: the first answer again).
IDEMPOTENCY_KEY = {
    "in": "header", "name": idempotency.HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
}


#: The error answers a widget view may give, by status (all in the `{"error":{…}}` shape).
ERRORS = {400: "BAD_REQUEST", 404: "NOT_FOUND", 409: "CONFLICT", 422: "UNPROCESSABLE_ENTITY", 429: "TOO_MANY_REQUESTS"}


def answers(schema: type, *errors: int):
    """Document a view's 200 answer and its errors; every widget route is rate limited (429)."""

    def decorate(view):
        for status in (*errors, 429):
            view = bp.alt_response(status, response=ERRORS[status])(view)
        return bp.response(200, schema)(view)

    return decorate


# ---------- routes ----------

@bp.get("/pages/<store_slug>/<page_slug>")
@answers(schemas.OpenedCheckoutSchema, 404)
@per_ip
def open_checkout(store_slug: str, page_slug: str):
    """Open a checkout session on a published page (counts a view and a session)."""
    page = responses.find_published_page(db.session, store_slug, page_slug)
    opened = responses.opened_view(services.open_checkout(db.session, page, client_info=_client_info()), page)
    db.session.commit()  # after the answer is read off the session: committing expires it
    return jsonify(opened)


@bp.patch("/sessions/<session_id>")
@bp.doc(**_body(schemas.UpdateCheckoutBodySchema))
@answers(schemas.WidgetSessionSchema, 400, 404, 409, 422)
@per_ip
@per_session
def update_checkout(session_id: str):
    """Change what the shopper entered: email, name, options, answers, coupon (all optional)."""
    changes = requests.update_arguments(requests.json_body())
    checkout = services.lock_checkout_by_id(db.session, session_id)
    services.update_checkout(db.session, checkout, **changes)
    # Shaped before the commit, from what was just flushed: after it, every attribute would
    # be re-read from the database (another connection checkout and a SELECT).
    answer = responses.checkout_view(db.session, checkout)
    db.session.commit()
    return jsonify(answer)


@bp.post("/validate-coupon")
@bp.doc(**_body(schemas.CouponCheckBodySchema))
@answers(schemas.CouponCheckSchema, 400, 404, 422)
@per_ip
@per_session
def validate_coupon():
    """Would this code apply to the session now? Answers only; the session is not changed."""
    body = requests.json_body()
    session_id = requests.required_text(body, "sessionId", max_length=64)
    code = requests.required_text(body, "code", max_length=100)
    read_only(db.session)
    # The page and its store from the snapshot cache, not two lazy loads of the ORM rows.
    checkout, page = services.checkout_and_page(db.session, session_id)
    evaluation = evaluate_coupon(
        db.session, page.store, code, page=page, subtotal=checkout.subtotal, currency=checkout.currency
    )
    return jsonify(responses.coupon_check_view(evaluation, checkout.subtotal))


@bp.post("/checkout")
@bp.doc(parameters=[IDEMPOTENCY_KEY], **_body(schemas.PaymentBodySchema))
@answers(schemas.PaymentAnswerSchema, 400, 404, 409, 422)
@per_ip
@per_session
def pay():
    """Ask the provider for the payment. A decline is a 200 with `error` (the session is open
    again, or expired after the third); authentication is a `nextAction`."""
    body = requests.json_body()
    session_id = requests.required_text(body, "sessionId", max_length=64)
    payment_method = body.get("paymentMethod")
    if payment_method is not None and not isinstance(payment_method, str):
        raise ValidationFailed.on("paymentMethod", "Send a string.")
    return idempotency.run_idempotent(
        f"widget:{session_id}", request.headers.get(idempotency.HEADER), idempotency.current_fingerprint(),
        lambda: _pay(session_id, payment_method),
    )


def _pay(session_id: str, payment_method: str | None) -> Response:
    """The payment itself; run_idempotent commits it (with the stored answer, given a key)."""
    checkout = services.lock_checkout_by_id(db.session, session_id)
    attempt = initiate_payment(db.session, checkout, payment_method=payment_method)
    return jsonify(responses.payment_started_view(checkout, attempt))


@bp.get("/sessions/<session_id>/status")
@answers(schemas.CheckoutStatusSchema, 404)
@per_ip
@per_session
def checkout_status(session_id: str):
    """Where the session stands: for polling after a redirect or while a payment settles."""
    read_only(db.session)
    return jsonify(responses.status_view(responses.find_checkout_status(db.session, session_id)))


@bp.post("/sessions/<session_id>/abandon")
@answers(schemas.AbandonedSchema, 404, 409)
@per_ip
@per_session
def abandon_checkout(session_id: str):
    """The shopper closed the checkout (ABANDON): 409 once it is past the point of no return."""
    checkout = services.lock_checkout_by_id(db.session, session_id)
    services.abandon_checkout(db.session, checkout)
    db.session.commit()
    return jsonify({"sessionId": session_id, "status": "abandoned"})


@bp.get("/embed/<embed_id>")
@answers(schemas.PublicEmbedSchema, 404)
@per_ip
def embed_details(embed_id: str):
    """An embed's settings and its page, for `embed.js` (404 while the page is not published)."""
    read_only(db.session)
    return jsonify(responses.embed_view(*responses.find_public_embed(db.session, embed_id)))
