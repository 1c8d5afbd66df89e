"""Dashboard: checkout pages — list, create, the editor (details, status, variants and options),
preview, publish / archive / unpublish, duplicate, delete.

The editor is one screen with a named block per region htmx swaps: `page_form`, `page_status`,
`variants`, `danger_zone`. Variant and option edits answer the `variants` block to htmx (with
`HX-Trigger: page-changed`, on which the status panel refreshes itself) and a 303 to the editor
without JavaScript. Invalid input is a 422 with the errors beside the fields.
"""
from __future__ import annotations

from flask import Blueprint, flash, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload

from checkie.catalog import pages, variants
from checkie.catalog.models import Page, PageStatus, Variant
from checkie.dashboard.forms.pages import (
    STATUS_FILTERS,
    MoveForm,
    OptionForm,
    PageForm,
    VariantForm,
    major_text,
)
from checkie.dashboard.guards import store_required
from checkie.errors import Conflict, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import fragment_or_see_other, hx_trigger, render_page, request, see_other
from checkie.pagination import id_or_none, keyset_page
from checkie.stores.models import Role, Store

bp = Blueprint("pages", __name__)
BASE = "/dashboard/stores/<int:store_id>/pages"
PAGE = BASE + "/<int:page_id>"
VARIANT = PAGE + "/variants/<int:variant_id>"
OPTION = VARIANT + "/options/<int:option_id>"
PER_PAGE = 25
#: Blocks of the editor that htmx may ask for by name (GET …?block=…).
EDITOR_BLOCKS = {"page_status", "variants"}


# ---------- list and create ----------

def _listing(store: Store, *, status: str, search: str, before: int | None) -> dict:
    """One screen of the list, newest first, and the link to the next one. A search the
    service refuses (control characters, too long) lists everything and says why."""
    try:
        stmt, search_error = pages.pages_query(store, status=status or None, search=search), None
    except ValidationFailed as error:
        stmt, search_error = pages.pages_query(store, status=status or None), error.message
    rows, more = keyset_page(db.session, stmt.options(joinedload(Page.stats)), Page.id, after=before, limit=PER_PAGE)
    next_url = None
    if more:
        next_url = url_for("pages.index", store_id=store.id, status=status or None, q=search or None, before=rows[-1].id)
    return {"rows": rows, "next_url": next_url, "search_error": search_error}


@bp.get(BASE)
@store_required(Role.VIEWER)
def index(store: Store):
    """Filter by status and search titles; htmx swaps `page_list` (render_page gives a history
    restore of a pushed URL the whole screen)."""
    status = request.args.get("status", "")
    status = status if status in {s.value for s in PageStatus} else ""
    search, before = request.args.get("q", "").strip(), id_or_none(request.args.get("before", type=int))
    return render_page(
        "dashboard/pages/index.html", block="page_list", store=store,
        status_filter=status, search=search, paged=bool(before), filtered=bool(status or search),
        status_filters=STATUS_FILTERS, **_listing(store, status=status, search=search, before=before),
    )


@bp.route(BASE + "/new", methods=["GET", "POST"])
@store_required(Role.ADMIN)
def new(store: Store):
    form = PageForm(currency=store.currency)
    if form.validate_on_submit():
        try:
            page = pages.create_page(db.session, store, **form.changes())
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            flash(f"“{page.title}” was created as a draft. Add variants and fields, then publish it.", "success")
            return see_other(url_for("pages.show", store_id=store.id, page_id=page.id))
    return render_page("dashboard/pages/new.html", block="page_form", store=store, form=form,
                       status=422 if form.errors else 200)


# ---------- the editor ----------

def _prefix(form: FlaskForm) -> str:
    return form._prefix.rstrip("-")


def _option_form(page: Page, prefix: str, **data) -> OptionForm:
    return OptionForm(formdata=None, prefix=prefix, currency=page.currency, **data)


def _editors(page: Page, failed: FlaskForm | None) -> dict:
    """A form for every inline editor of the variants block, keyed by prefix: `v<id>` renames a
    variant, `o<id>` edits an option, `v<id>-new` adds an option, `new-variant` adds a variant.
    A form that just failed validation takes its own place, errors and all."""
    forms: dict[str, FlaskForm] = {"new-variant": VariantForm(formdata=None, prefix="new-variant")}
    for variant in page.variants:
        forms[f"v{variant.id}"] = VariantForm(formdata=None, prefix=f"v{variant.id}", name=variant.name)
        forms[f"v{variant.id}-new"] = _option_form(page, f"v{variant.id}-new")
        for option in variant.options:
            forms[f"o{option.id}"] = _option_form(
                page, f"o{option.id}", name=option.name, price_delta=major_text(option.price_delta, page.currency)
            )
    if failed is not None:
        forms[_prefix(failed)] = failed
    return forms


def _editor(store: Store, page: Page, *, block: str | None = None, status: int = 200,
            form: PageForm | None = None, failed: FlaskForm | None = None, editing: str | None = None, **context):
    """The editor, or one of its blocks for htmx. `editing` names the inline editor shown open
    (`v<id>` or `o<id>`); a form that failed validation is shown open with its errors."""
    return render_page(
        "dashboard/pages/show.html", block=block, status=status, store=store, page=page,
        form=form or PageForm.for_page(page), forms=_editors(page, failed),
        editing=_prefix(failed) if failed is not None else editing,
        problems=pages.publish_problems(page), deletable=pages.is_deletable(page), **context,
    )


def _editor_url(store: Store, page: Page, anchor: str | None = None) -> str:
    return url_for("pages.show", store_id=store.id, page_id=page.id, _anchor=anchor)


@bp.get(PAGE)
@store_required(Role.VIEWER)
def show(store: Store, page_id: int):
    """The editor (read-only for viewers). htmx may ask for one region with `?block=`;
    `?edit=o<id>` opens one option's (or `v<id>` one variant's) inline editor."""
    block = request.args.get("block")
    return _editor(store, pages.get_page(db.session, store, page_id),
                   block=block if block in EDITOR_BLOCKS else None, editing=request.args.get("edit"))


@bp.post(PAGE)
@store_required(Role.ADMIN)
def update(store: Store, page_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    form = PageForm()
    if form.validate_on_submit():
        try:
            pages.update_page(db.session, page, **form.changes())
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            flash("Page saved.", "success")
            return see_other(_editor_url(store, page))
    return _editor(store, page, block="page_form", status=422, form=form)


@bp.get(PAGE + "/preview")
@store_required(Role.VIEWER)
def preview(store: Store, page_id: int):
    """The page as shoppers will see it, whatever its status (nothing can be submitted)."""
    return render_page("storefront/preview.html", store=store, page=pages.get_page(db.session, store, page_id))


# ---------- status, duplicate, delete ----------

def _status_action(store: Store, page_id: int, service, message: str):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    try:
        service(db.session, page)
    except (ValidationFailed, Conflict) as error:
        return _editor(store, page, block="page_status", status=422, status_error=error.message)
    db.session.commit()
    flash(message.format(title=page.title), "success")
    return see_other(_editor_url(store, page))


@bp.post(PAGE + "/publish")
@store_required(Role.ADMIN)
def publish(store: Store, page_id: int):
    return _status_action(store, page_id, pages.publish_page, "“{title}” is published: shoppers can buy it now.")


@bp.post(PAGE + "/archive")
@store_required(Role.ADMIN)
def archive(store: Store, page_id: int):
    return _status_action(store, page_id, pages.archive_page, "“{title}” is archived: it is off sale.")


@bp.post(PAGE + "/unpublish")
@store_required(Role.ADMIN)
def unpublish(store: Store, page_id: int):
    return _status_action(store, page_id, pages.unpublish_page, "“{title}” is a draft again: it is off sale.")


@bp.post(PAGE + "/duplicate")
@store_required(Role.ADMIN)
def duplicate(store: Store, page_id: int):
    copy = pages.duplicate_page(db.session, pages.get_page(db.session, store, page_id))
    db.session.commit()
    flash(f"This is a draft copy, “{copy.title}”, at a new address.", "success")
    return see_other(_editor_url(store, copy))


@bp.post(PAGE + "/delete")
@store_required(Role.ADMIN)
def delete(store: Store, page_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    try:
        pages.delete_page(db.session, page)
    except Conflict as error:
        return _editor(store, page, block="danger_zone", status=422, delete_error=error.message)
    db.session.commit()
    flash(f"“{page.title}” was deleted.", "success")
    return see_other(url_for("pages.index", store_id=store.id))


# ---------- variants and options (inline, htmx) ----------

def _variants_done(store: Store, page: Page, message: str):
    db.session.commit()
    return fragment_or_see_other(
        lambda: hx_trigger(_editor(store, page, block="variants", variants_notice=message), "page-changed"),
        url=_editor_url(store, page, "variants"), message=message,
    )


def _variants_refused(store: Store, page: Page, *, failed: FlaskForm | None = None, error: ValidationFailed | None = None):
    return _editor(store, page, block="variants", status=422, failed=failed,
                   variants_error=error.message if error is not None and failed is None else None)


def _variant(store: Store, page_id: int, variant_id: int) -> tuple[Page, Variant]:
    page = pages.get_page(db.session, store, page_id, for_update=True)
    return page, variants.get_variant(db.session, page, variant_id)


@bp.post(PAGE + "/variants")
@store_required(Role.ADMIN)
def add_variant(store: Store, page_id: int):
    page = pages.get_page(db.session, store, page_id, for_update=True)
    form = VariantForm(prefix="new-variant")
    if form.validate_on_submit():
        try:
            variant = variants.add_variant(db.session, page, name=form.name.data)
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            return _variants_done(store, page, f"Added the variant “{variant.name}”. Now give it options.")
    return _variants_refused(store, page, failed=form)


@bp.post(VARIANT)
@store_required(Role.ADMIN)
def rename_variant(store: Store, page_id: int, variant_id: int):
    page, variant = _variant(store, page_id, variant_id)
    form = VariantForm(prefix=f"v{variant.id}")
    if form.validate_on_submit():
        try:
            variants.rename_variant(db.session, variant, name=form.name.data)
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            return _variants_done(store, page, f"Renamed the variant to “{variant.name}”.")
    return _variants_refused(store, page, failed=form)


@bp.post(VARIANT + "/move")
@store_required(Role.ADMIN)
def move_variant(store: Store, page_id: int, variant_id: int):
    page, variant = _variant(store, page_id, variant_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _variants_refused(store, page, error=ValidationFailed("Choose up or down."))
    variants.move_variant(db.session, variant, offset=form.offset)
    return _variants_done(store, page, f"Moved “{variant.name}” {form.direction.data}.")


@bp.post(VARIANT + "/delete")
@store_required(Role.ADMIN)
def delete_variant(store: Store, page_id: int, variant_id: int):
    page, variant = _variant(store, page_id, variant_id)
    try:
        variants.delete_variant(db.session, variant)
    except ValidationFailed as error:
        return _variants_refused(store, page, error=error)
    return _variants_done(store, page, f"Deleted the variant “{variant.name}” and its options.")


@bp.post(VARIANT + "/options")
@store_required(Role.ADMIN)
def add_option(store: Store, page_id: int, variant_id: int):
    page, variant = _variant(store, page_id, variant_id)
    form = OptionForm(prefix=f"v{variant.id}-new", currency=page.currency)
    if form.validate_on_submit():
        try:
            option = variants.add_option(db.session, variant, name=form.name.data, price_delta=form.delta_minor)
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            return _variants_done(store, page, f"Added “{option.name}” to “{variant.name}”.")
    return _variants_refused(store, page, failed=form)


def _option(store: Store, page_id: int, variant_id: int, option_id: int):
    page, variant = _variant(store, page_id, variant_id)
    return page, variants.get_option(db.session, variant, option_id)


@bp.post(OPTION)
@store_required(Role.ADMIN)
def update_option(store: Store, page_id: int, variant_id: int, option_id: int):
    page, option = _option(store, page_id, variant_id, option_id)
    form = OptionForm(prefix=f"o{option.id}", currency=page.currency)
    if form.validate_on_submit():
        try:
            variants.update_option(db.session, option, name=form.name.data, price_delta=form.delta_minor)
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            return _variants_done(store, page, f"Saved the option “{option.name}”.")
    return _variants_refused(store, page, failed=form)


@bp.post(OPTION + "/move")
@store_required(Role.ADMIN)
def move_option(store: Store, page_id: int, variant_id: int, option_id: int):
    page, option = _option(store, page_id, variant_id, option_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _variants_refused(store, page, error=ValidationFailed("Choose up or down."))
    variants.move_option(db.session, option, offset=form.offset)
    return _variants_done(store, page, f"Moved “{option.name}” {form.direction.data}.")


@bp.post(OPTION + "/delete")
@store_required(Role.ADMIN)
def delete_option(store: Store, page_id: int, variant_id: int, option_id: int):
    page, option = _option(store, page_id, variant_id, option_id)
    try:
        variants.delete_option(db.session, option)
    except ValidationFailed as error:
        return _variants_refused(store, page, error=error)
    return _variants_done(store, page, f"Deleted the option “{option.name}”.")
