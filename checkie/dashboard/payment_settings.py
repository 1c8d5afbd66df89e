"""Dashboard: a store's payment settings (SPEC §5, §9) — the provider its payments go through,
its own Stripe keys (shown masked, never echoed back), the webhook endpoint Stripe must call, and
a button that asks Stripe whether the keys work. Viewers see it all read-only."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, url_for

from checkie.dashboard.forms import ActionForm
from checkie.dashboard.forms.payment_settings import PaymentSettingsForm, payment_settings_form
from checkie.dashboard.guards import store_required
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, see_other
from checkie.stores import payment_settings
from checkie.stores.models import Role, Store

bp = Blueprint("payment_settings", __name__)
_TEMPLATE = "dashboard/stores/payment_settings.html"


def _form(store: Store, *, blank: bool) -> PaymentSettingsForm:
    settings = payment_settings.settings_of(store)
    return payment_settings_form(settings.choice, platform_provider=current_app.config["PAYMENT_PROVIDER"],
                                 test_provider_available=settings.test_provider_available, blank=blank)


def _render(store: Store, *, form: PaymentSettingsForm | None = None, block: str | None = None, status: int = 200,
            connection: str | None = None, connection_error: str | None = None):
    return render_page(
        _TEMPLATE, block=block, status=status, store=store, settings=payment_settings.settings_of(store),
        form=form or _form(store, blank=True), test_form=ActionForm(formdata=None),
        webhook_url=payment_settings.stripe_webhook_url(current_app.config["APP_URL"]),
        webhook_events=payment_settings.STRIPE_WEBHOOK_EVENTS, connection=connection, connection_error=connection_error,
    )


@bp.get("/dashboard/stores/<int:store_id>/payment-settings")
@store_required(Role.VIEWER)
def index(store: Store):
    return _render(store)


@bp.post("/dashboard/stores/<int:store_id>/payment-settings")
@store_required(Role.ADMIN)
def update(store: Store):
    form = _form(store, blank=False)
    if form.validate_on_submit():
        try:
            payment_settings.update_payment_settings(
                db.session, store, provider=form.provider.data, publishable_key=form.publishable_key.data,
                secret_key=form.secret_key.data, webhook_secret=form.webhook_secret.data,
                remove_stripe_keys=form.remove_stripe_keys.data,
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            flash("Payment settings saved.", "success")
            return see_other(url_for("payment_settings.index", store_id=store.id))
    return _render(store, form=form, block="payment_form", status=422)


@bp.post("/dashboard/stores/<int:store_id>/payment-settings/test")
@store_required(Role.ADMIN)
def test_connection(store: Store):
    """Asks Stripe with the saved keys; htmx swaps the answer into its slot, a plain post gets the
    page with it there (nothing changes, so there is nothing to redirect away from)."""
    try:
        mode = payment_settings.check_connection(store)
    except payment_settings.ConnectionFailed as error:
        return _render(store, block="connection_result", status=422, connection_error=error.message)
    return _render(store, block="connection_result", connection=f"Connected to Stripe ({mode} mode).")
