"""Dashboard: a page's custom fields — add, edit, delete, move up/down.

The list lives in `dashboard/pages/_custom_fields.html`, which the page editor includes. Every
control is a real form or link targeting that block: htmx swaps in the block (rendered alone
from `custom_fields/index.html`), and without JavaScript a successful post redirects (303) to
the editor, while an invalid one re-renders the block on a page of its own with the errors."""
from __future__ import annotations

from flask import Blueprint, url_for

from checkie.catalog import fields, pages
from checkie.catalog.models import Page
from checkie.dashboard.forms.catalog_fields import (
    EDIT_PREFIX,
    NEW_PREFIX,
    CustomFieldForm,
    MoveFieldForm,
)
from checkie.dashboard.guards import store_required
from checkie.errors import Conflict, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import fragment_or_see_other, render_page
from checkie.stores.models import Role, Store

bp = Blueprint("custom_fields", __name__)
BASE = "/dashboard/stores/<int:store_id>/pages/<int:page_id>/custom-fields"


def editor_url(store: Store, page: Page) -> str:
    """Where a plain (no-JS) post returns: the page editor, which shows the fields' block."""
    return url_for("pages.show", store_id=store.id, page_id=page.id)


def _render(store: Store, page: Page, *, status: int = 200, **context):
    return render_page("dashboard/custom_fields/index.html", block="custom_fields", status=status,
                       store=store, page=page, cf_editor_url=editor_url(store, page), **context)


def _done(store: Store, page: Page, message: str):
    """After a change: htmx gets the refreshed block, a browser the editor (post/redirect/get)."""
    return fragment_or_see_other(
        lambda: _render(store, page, cf_notice=message), url=editor_url(store, page), message=message
    )


def _refused(store: Store, page: Page, error: ValidationFailed | Conflict):
    """A button-only action the rules refused: the block again, with the reason on top."""
    return _render(store, page, status=422, cf_error=error.message)


@bp.get(BASE)
@store_required(Role.VIEWER)
def index(store: Store, page_id: int):
    return _render(store, pages.get_page(db.session, store, page_id))


@bp.post(BASE)
@store_required(Role.ADMIN)
def create(store: Store, page_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    form = CustomFieldForm(prefix=NEW_PREFIX)
    if form.validate_on_submit():
        try:
            field = fields.create_field(
                db.session, page, label=form.label.data, type=form.type.data, key=form.key.data or None,
                required=form.required.data, options=form.option_lines(), help_text=form.help_text.data,
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            return _done(store, page, f"Added “{field.label}” ({field.key}).")
    return _render(store, page, status=422, cf_add_form=form)


@bp.get(BASE + "/<int:field_id>/edit")
@store_required(Role.ADMIN)
def edit(store: Store, page_id: int, field_id: int):
    page = pages.get_page(db.session, store, page_id)
    field = fields.get_field(db.session, page, field_id)
    form = CustomFieldForm(formdata=None, prefix=EDIT_PREFIX, data={
        "label": field.label, "key": field.key, "type": field.type.value, "options": "\n".join(field.options or []),
        "required": field.required, "help_text": field.help_text,
    })
    return _render(store, page, cf_editing=field.id, cf_edit_form=form)


@bp.post(BASE + "/<int:field_id>")
@store_required(Role.ADMIN)
def update(store: Store, page_id: int, field_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    field = fields.get_field(db.session, page, field_id)
    form = CustomFieldForm(prefix=EDIT_PREFIX)
    if form.validate_on_submit():
        try:
            fields.update_field(
                db.session, field, label=form.label.data, key=(form.key.data or "").strip() or fields.KEEP,
                type=form.type.data, required=form.required.data, options=form.option_lines(),
                help_text=form.help_text.data,
            )
        except (ValidationFailed, Conflict) as error:  # a 409 about a frozen key included
            copy_errors(form, error)
        else:
            db.session.commit()
            return _done(store, page, f"Saved “{field.label}”.")
    return _render(store, page, status=422, cf_editing=field_id, cf_edit_form=form)


@bp.post(BASE + "/<int:field_id>/delete")
@store_required(Role.ADMIN)
def delete(store: Store, page_id: int, field_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    field = fields.get_field(db.session, page, field_id)
    try:
        fields.delete_field(db.session, field)
    except Conflict as error:
        return _refused(store, page, error)
    db.session.commit()
    return _done(store, page, f"Deleted “{field.label}”.")


@bp.post(BASE + "/<int:field_id>/move")
@store_required(Role.ADMIN)
def move(store: Store, page_id: int, field_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    field = fields.get_field(db.session, page, field_id)
    form = MoveFieldForm()
    if not form.validate_on_submit():
        return _refused(store, page, ValidationFailed("Move the field up or down."))
    fields.move_field(db.session, field, offset=-1 if form.direction.data == "up" else 1)
    db.session.commit()
    return _done(store, page, f"Moved “{field.label}” {form.direction.data}.")
