"""Dashboard: landing, the store overview, creating a store, its settings and deleting it."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, session, url_for
from flask_login import current_user, login_required

from checkie.dashboard import charts
from checkie.dashboard.forms.stores import DeleteStoreForm, StoreForm, StoreSettingsForm
from checkie.dashboard.guards import store_required
from checkie.errors import Conflict, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, see_other
from checkie.payments import reports, setup
from checkie.payments.services import delete_store
from checkie.stores import access, services
from checkie.stores.models import Role, Store
from checkie.subscriptions import clock, metrics

bp = Blueprint("stores", __name__)


@bp.get("/")
def root():
    if current_user.is_authenticated:
        return redirect(url_for("stores.index"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def index():
    """The store used last (or the first one); an empty state before the first store exists."""
    store = access.store_to_open(db.session, current_user.id, session.get("store_id"))
    if store is not None:
        return redirect(url_for("stores.show", store_id=store.id))
    return render_page("dashboard/stores/index.html")


@bp.route("/dashboard/stores/new", methods=["GET", "POST"])
@login_required
def new():
    form = StoreForm()
    if form.validate_on_submit():
        try:
            store = services.create_store(
                db.session, owner=current_user._get_current_object(), name=form.name.data,
                currency=form.currency.data, slug=form.slug.data or None,
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            flash(f"{store.name} is ready. Its checkout address is /c/{store.slug}.", "success")
            return see_other(url_for("stores.show", store_id=store.id))
    if not form.errors:
        return render_page("dashboard/stores/new.html", form=form)
    return render_page("dashboard/stores/new.html", block="store_form", form=form, status=422)


@bp.get("/dashboard/stores/<int:store_id>")
@store_required(Role.VIEWER)
def show(store: Store):
    """The overview: totals, subscriptions (MRR, how many, churn on the store's clock), and gross
    revenue per day over the last 30 days as an inline SVG chart with a round y-axis, in the
    store's currency (or, without payments in it, the first currency it has)."""
    stats = reports.store_overview(db.session, store)
    currency = stats.revenue[0]["currency"] if stats.revenue else store.currency
    chart = reports.revenue_by_day(db.session, store.id, currency, days=30)
    axis = charts.revenue_axis(max(point.amount for point in chart))
    now = clock.now(db.session, store.id)
    return render_page(
        "dashboard/stores/show.html", store=store, stats=stats, chart=chart, chart_currency=currency, axis=axis,
        setup=setup.setup_progress(db.session, store.id), mrr=metrics.mrr(db.session, store, now=now),
        subscription_counts=metrics.counts(db.session, store), churn=metrics.churn(db.session, store, now=now),
    )


def _render_settings(store: Store, *, form: StoreSettingsForm | None = None, delete_form: DeleteStoreForm | None = None,
                     block: str | None = None, status: int = 200):
    return render_page(
        "dashboard/stores/edit.html", block=block, status=status, store=store,
        form=form or StoreSettingsForm(obj=store, formdata=None), delete_form=delete_form or DeleteStoreForm(formdata=None),
    )


@bp.get("/dashboard/stores/<int:store_id>/settings")
@store_required(Role.VIEWER)
def edit(store: Store):
    return _render_settings(store)


@bp.post("/dashboard/stores/<int:store_id>/settings")
@store_required(Role.ADMIN)
def update(store: Store):
    form = StoreSettingsForm()
    if form.validate_on_submit():
        try:
            services.update_store(db.session, store, name=form.name.data, slug=form.slug.data,
                                  currency=form.currency.data, notify_new_sale=form.notify_new_sale.data,
                                  **form.portal_settings())
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            flash("Store settings saved.", "success")
            return see_other(url_for("stores.edit", store_id=store.id))
    return _render_settings(store, form=form, block="settings_form", status=422)


@bp.post("/dashboard/stores/<int:store_id>/delete")
@store_required(Role.OWNER)
def delete(store: Store):
    """Deleting needs the store's name typed in: a slip of the mouse must not erase a store."""
    form = DeleteStoreForm()
    if form.validate_on_submit() and form.confirm_name.data.strip() == store.name:
        name = store.name
        try:
            delete_store(db.session, store)
        except Conflict as refused:
            form.confirm_name.errors = [refused.message]
            return _render_settings(store, delete_form=form, block="danger_zone", status=422)
        db.session.commit()
        session.pop("store_id", None)
        flash(f"{name} was deleted.", "success")
        return see_other(url_for("stores.index"))
    if not form.confirm_name.errors:
        form.confirm_name.errors = [f"Type “{store.name}” exactly to delete the store."]
    return _render_settings(store, delete_form=form, block="danger_zone", status=422)
