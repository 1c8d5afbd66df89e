"""Dashboard: a store's API keys — list, create (the secret is shown once), revoke."""
from __future__ import annotations

from flask import Blueprint, url_for
from flask_login import current_user

from checkie.dashboard.forms.stores import ApiKeyForm
from checkie.dashboard.guards import store_required
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import fragment_or_see_other, render_page
from checkie.stores import api_keys
from checkie.stores.models import Role, Store

bp = Blueprint("api_keys", __name__)


def _render_keys(
    store: Store, *, form: ApiKeyForm | None = None, block: str | None = "keys", status: int = 200, **context
):
    """The keys screen; after a post, htmx gets only the `keys` block (form, new key, list)."""
    return render_page(
        "dashboard/api_keys/index.html", block=block, status=status, store=store,
        keys=api_keys.list_api_keys(db.session, store), form=form or ApiKeyForm(formdata=None), **context,
    )


@bp.get("/dashboard/stores/<int:store_id>/api-keys")
@store_required(Role.VIEWER)
def index(store: Store):
    return _render_keys(store, block=None)


@bp.post("/dashboard/stores/<int:store_id>/api-keys")
@store_required(Role.ADMIN)
def create(store: Store):
    """Answers with the page itself (201), not a redirect: the secret exists only in this
    response, and carrying it across a redirect would mean storing it somewhere."""
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            key, raw_key = api_keys.create_api_key(
                db.session, store, name=form.name.data, created_by=current_user._get_current_object()
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            return _render_keys(store, status=201, new_key=key, raw_key=raw_key)
    return _render_keys(store, form=form, status=422)


@bp.post("/dashboard/stores/<int:store_id>/api-keys/<int:key_id>/revoke")
@store_required(Role.ADMIN)
def revoke(store: Store, key_id: int):
    key = api_keys.get_api_key(db.session, store, key_id)
    api_keys.revoke_api_key(db.session, key)
    db.session.commit()
    message = f"“{key.name}” ({key.prefix}…) was revoked: requests using it are now refused."
    return fragment_or_see_other(
        lambda: _render_keys(store, notice=message), url=url_for("api_keys.index", store_id=store.id), message=message
    )
