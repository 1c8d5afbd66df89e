"""Dashboard: a store's webhook endpoints (SPEC §6.5, §7) — list, create (the signing secret is
shown once), edit, disable/enable, delete, rotate the secret, send a test event; per endpoint
the delivery log (filtered by status, keyset-paginated newest first), one delivery with every
attempt and the body sent, resend, and "replay failed since".

Viewers see everything and change nothing. htmx swaps the form (`endpoint_form`, a 422 with its
errors), the log (`delivery_log`) and the new secret after a rotation (`secret_box`); other
changes answer with a redirect (HX-Redirect for htmx, 303 otherwise) and a flash message."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC

from flask import Blueprint, flash, url_for
from sqlalchemy.orm import joinedload

from checkie.dashboard.forms.webhooks import ActionForm, EndpointForm, ReplayForm, edit_endpoint_form
from checkie.dashboard.guards import store_required
from checkie.database import utcnow
from checkie.errors import Conflict, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, request, see_other
from checkie.pagination import id_or_none, keyset_page
from checkie.stores.models import Role, Store
from checkie.webhooks import services
from checkie.webhooks.delivery import event_body
from checkie.webhooks.models import PREVIOUS_SECRET_LIFETIME, DeliveryStatus, WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/dashboard/stores/<int:store_id>/webhooks")
PAGE_SIZE = 25
STATUSES = [status.value for status in DeliveryStatus]
ROTATION_HOURS = int(PREVIOUS_SECRET_LIFETIME.total_seconds() // 3600)
_EXPIRED = "The form expired; reload the page and try again."


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    return render_page("dashboard/webhooks/index.html", store=store, endpoints=services.list_endpoints(db.session, store.id))


@bp.route("/new", methods=["GET", "POST"])
@store_required(Role.ADMIN)
def new(store: Store):
    """Answers a successful post with the secret itself (201), not a redirect: it exists only in
    this response (the database keeps it encrypted, and shows it nowhere)."""
    form = EndpointForm() if request.method == "POST" else EndpointForm(formdata=None)
    if form.validate_on_submit():
        try:
            endpoint, secret = services.create_endpoint(db.session, store, **_fields(form))
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            return render_page("dashboard/webhooks/new.html", block="endpoint_form", status=201, store=store,
                               endpoint=endpoint, secret=secret)
    status = 422 if request.method == "POST" else 200
    return render_page("dashboard/webhooks/new.html", block="endpoint_form", status=status, store=store, form=form)


def _fields(form: EndpointForm) -> dict:
    """What the service checks, as typed: an empty field is given as empty, so it is refused."""
    return {"url": form.url.data or "", "events": form.events.data or [], "description": form.description.data or ""}


@bp.get("/<int:endpoint_id>")
@store_required(Role.VIEWER)
def show(store: Store, endpoint_id: int):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    return _render_endpoint(store, endpoint, block="delivery_log")


def _render_endpoint(store: Store, endpoint: WebhookEndpoint, *, block: str | None = None, status: int = 200, **context):
    """The endpoint's page: its settings, actions and delivery log (`?status=`, `?before=`)."""
    chosen = request.args.get("status", "")
    status_filter = DeliveryStatus(chosen) if chosen in STATUSES else None
    before = id_or_none(request.args.get("before", type=int))
    # keyset_page orders by id itself (newest first, as the log's index reads).
    stmt = services.deliveries_query(endpoint, status=status_filter).order_by(None).options(joinedload(WebhookDelivery.event))
    page = keyset_page(db.session, stmt, WebhookDelivery.id, after=before, limit=PAGE_SIZE)
    context.setdefault("form", edit_endpoint_form(endpoint))
    context.setdefault("replay_form", ReplayForm(formdata=None))
    return render_page(
        "dashboard/webhooks/show.html", block=block, status=status, store=store, endpoint=endpoint,
        deliveries=page.rows, more=page.more, paged=bool(before), filter=status_filter.value if status_filter else None,
        statuses=STATUSES, rotation_hours=ROTATION_HOURS, now=utcnow(), **context,
    )


@bp.post("/<int:endpoint_id>")
@store_required(Role.ADMIN)
def update(store: Store, endpoint_id: int):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            services.update_endpoint(db.session, endpoint, **_fields(form))
        except ValidationFailed as error:
            db.session.rollback()
            copy_errors(form, error)
        else:
            db.session.commit()
            flash("The endpoint was saved.", "success")
            return see_other(url_for("webhooks.show", store_id=store.id, endpoint_id=endpoint.id))
    return _render_endpoint(store, endpoint, block="endpoint_form", status=422, form=form)


@bp.post("/<int:endpoint_id>/enable")
@store_required(Role.ADMIN)
def enable(store: Store, endpoint_id: int):
    return _toggle(store, endpoint_id, enabled=True)


@bp.post("/<int:endpoint_id>/disable")
@store_required(Role.ADMIN)
def disable(store: Store, endpoint_id: int):
    return _toggle(store, endpoint_id, enabled=False)


def _toggle(store: Store, endpoint_id: int, *, enabled: bool):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    if ActionForm().validate_on_submit():
        services.update_endpoint(db.session, endpoint, enabled=enabled)
        db.session.commit()
        flash("The endpoint is enabled: events are sent to it again." if enabled
              else "The endpoint is disabled: no events are sent to it until you enable it.", "success")
    else:
        flash(_EXPIRED, "error")
    return see_other(url_for("webhooks.show", store_id=store.id, endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/delete")
@store_required(Role.ADMIN)
def delete(store: Store, endpoint_id: int):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    if not ActionForm().validate_on_submit():
        flash(_EXPIRED, "error")
        return see_other(url_for("webhooks.show", store_id=store.id, endpoint_id=endpoint.id))
    services.delete_endpoint(db.session, endpoint)
    db.session.commit()
    flash("The endpoint was deleted with its delivery log.", "success")
    return see_other(url_for("webhooks.index", store_id=store.id))


@bp.post("/<int:endpoint_id>/rotate")
@store_required(Role.ADMIN)
def rotate(store: Store, endpoint_id: int):
    """The new secret, shown this once: htmx swaps it in (`secret_box`), a plain post gets the page."""
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    if not ActionForm().validate_on_submit():
        flash(_EXPIRED, "error")
        return see_other(url_for("webhooks.show", store_id=store.id, endpoint_id=endpoint.id))
    secret = services.rotate_secret(db.session, endpoint)
    db.session.commit()
    return _render_endpoint(store, endpoint, block="secret_box", secret=secret)


@bp.post("/<int:endpoint_id>/test")
@store_required(Role.ADMIN)
def send_test(store: Store, endpoint_id: int):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    if ActionForm().validate_on_submit():
        _try(lambda: services.send_test_event(db.session, endpoint), "A test event (ping) is on its way: see the log below.")
    else:
        flash(_EXPIRED, "error")
    return see_other(url_for("webhooks.show", store_id=store.id, endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/replay")
@store_required(Role.ADMIN)
def replay(store: Store, endpoint_id: int):
    """Every failed delivery created since the given UTC time is sent again; says how many."""
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    form = ReplayForm()
    if not form.validate_on_submit():
        return _render_endpoint(store, endpoint, block="replay_form", status=422, replay_form=form)
    try:
        count = services.replay_failed(db.session, endpoint, form.since.data.replace(tzinfo=UTC))
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(f"{count} failed {'delivery was' if count == 1 else 'deliveries were'} queued again." if count
              else "No failed delivery since then: nothing to replay.", "success")
    return see_other(url_for("webhooks.show", store_id=store.id, endpoint_id=endpoint.id))


def _try(change: Callable[[], object], message: str) -> None:
    """Run a change a disabled endpoint refuses (Conflict): commit it and flash `message`, or flash why not."""
    try:
        change()
    except Conflict as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return
    db.session.commit()
    flash(message, "success")


@bp.get("/<int:endpoint_id>/deliveries/<int:delivery_id>")
@store_required(Role.VIEWER)
def delivery(store: Store, endpoint_id: int, delivery_id: int):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    found = services.get_delivery(db.session, endpoint, delivery_id)
    return render_page(
        "dashboard/webhooks/delivery.html", store=store, endpoint=endpoint, delivery=found,
        attempts=services.delivery_attempts(db.session, found), body=_pretty(event_body(found)),
    )


def _pretty(body: bytes) -> str:
    """The body as sent, indented for reading (the same document; the bytes differ only in spaces)."""
    return json.dumps(json.loads(body), indent=2, ensure_ascii=False)


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@store_required(Role.ADMIN)
def resend(store: Store, endpoint_id: int, delivery_id: int):
    endpoint = services.get_endpoint(db.session, store.id, endpoint_id)
    found = services.get_delivery(db.session, endpoint, delivery_id)
    if ActionForm().validate_on_submit():
        _try(lambda: services.resend_delivery(db.session, found), "The delivery was queued again: its attempts appear below.")
    else:
        flash(_EXPIRED, "error")
    return see_other(url_for("webhooks.delivery", store_id=store.id, endpoint_id=endpoint.id, delivery_id=found.id))
