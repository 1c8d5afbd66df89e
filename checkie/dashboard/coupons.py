"""Dashboard: a store's coupons — list, create, edit, deactivate/activate, delete.

Viewers see everything and change nothing. htmx swaps one region per interaction: the form
(`coupon_form`, re-rendered with errors as a 422), a table row (`coupon_row`) after
(de)activating, the list (`coupon_list`) after deleting. Without JavaScript every form posts
and redirects (303) as usual.
"""
from __future__ import annotations

from flask import Blueprint, flash, url_for

from checkie.catalog import coupons
from checkie.catalog.models import Coupon
from checkie.dashboard.forms.coupons import (
    CouponActionForm,
    CouponForm,
    coupon_terms,
    edit_coupon_form,
    new_coupon_form,
)
from checkie.dashboard.guards import store_required
from checkie.database import utcnow
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import fragment_or_see_other, render_page, request, see_other
from checkie.pagination import id_or_none
from checkie.stores.models import Role, Store

bp = Blueprint("coupons", __name__, url_prefix="/dashboard/stores/<int:store_id>/coupons")
_FILTERS = {"all": None, "active": True, "inactive": False}
PAGE_SIZE = 25


def _render_list(store: Store, *, block: str | None = None, notice: str | None = None, error: str | None = None,
                 status: int = 200):
    status_filter = request.args.get("status", "all")
    status_filter = status_filter if status_filter in _FILTERS else "all"
    before = id_or_none(request.args.get("before", type=int))
    rows, more = coupons.list_coupons(db.session, store, active=_FILTERS[status_filter], before_id=before, limit=PAGE_SIZE)
    return render_page(
        "dashboard/coupons/index.html", block=block, status=status, store=store, coupons=rows, more=more,
        filter=status_filter, paged=bool(before), notice=notice, error=error, now=utcnow(),
        coupon_status=coupons.coupon_status,
    )


def _render_form(store: Store, form: CouponForm, *, coupon: Coupon | None = None, status: int = 200):
    template = "dashboard/coupons/edit.html" if coupon else "dashboard/coupons/new.html"
    return render_page(
        template, block="coupon_form", status=status, store=store, form=form, coupon=coupon, now=utcnow(),
        coupon_status=coupons.coupon_status,
    )


def _checked_terms(store: Store, form: CouponForm, coupon: Coupon | None, *, form_ok: bool) -> dict:
    """The form's terms, or ValidationFailed listing every problem at once: what only the form
    sees and, beside it, whatever the service finds in the rest."""
    terms, problems = coupon_terms(form, current=coupon)
    if problems or not form_ok:
        try:
            coupons.check_coupon_terms(db.session, store, terms, coupon=coupon)
        except ValidationFailed as error:
            problems = {**(error.fields or {}), **problems}
        raise ValidationFailed("Some coupon fields are invalid.", fields=problems)
    return terms


def _save(store: Store, form: CouponForm, coupon: Coupon | None):
    """Validate, call the service, commit once; the form again with its errors (422) otherwise."""
    form_ok = form.validate_on_submit()
    try:
        terms = _checked_terms(store, form, coupon, form_ok=form_ok)
        if coupon is None:
            coupon = coupons.create_coupon(db.session, store, **terms)
        else:
            coupons.update_coupon(db.session, coupon, terms)
    except ValidationFailed as error:
        if error.fields:  # none: the form's own errors say what is wrong
            copy_errors(form, error)
        return _render_form(store, form, coupon=coupon, status=422)
    db.session.commit()
    flash(f"Coupon {coupon.code} saved.", "success")
    return see_other(url_for("coupons.index", store_id=store.id))


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    return _render_list(store, block="coupon_list")


@bp.route("/new", methods=["GET", "POST"])
@store_required(Role.ADMIN)
def new(store: Store):
    pages = coupons.store_pages(db.session, store)
    if request.method == "GET":
        return _render_form(store, new_coupon_form(pages, currency=store.currency))
    return _save(store, CouponForm().set_pages(pages), None)


@bp.get("/<int:coupon_id>")
@store_required(Role.VIEWER)
def edit(store: Store, coupon_id: int):
    """The coupon's terms: a form for admins, a read-only summary for viewers."""
    coupon = coupons.get_coupon(db.session, store, coupon_id)
    return _render_form(store, edit_coupon_form(coupon, coupons.store_pages(db.session, store)), coupon=coupon)


@bp.post("/<int:coupon_id>")
@store_required(Role.ADMIN)
def update(store: Store, coupon_id: int):
    coupon = coupons.get_coupon(db.session, store, coupon_id)
    return _save(store, CouponForm().set_pages(coupons.store_pages(db.session, store)), coupon)


def _button() -> str | None:
    """Where an action button was pressed ("list" or "coupon") once its CSRF token checks out;
    None when it does not (an expired page)."""
    form = CouponActionForm()
    return (form.back.data or "list") if form.validate_on_submit() else None


def _expired(store: Store):
    message = "The form expired; reload the page and try again."
    return fragment_or_see_other(
        lambda: _render_list(store, block="coupon_list", error=message, status=422),
        url=url_for("coupons.index", store_id=store.id), message=message, category="error",
    )


def _after_toggle(store: Store, coupon: Coupon, back: str | None, message: str):
    """htmx (from the list) gets the coupon's row back; a plain post returns where it came from."""
    if back is None:
        return _expired(store)
    if request.htmx and back == "list":
        return render_page(
            "dashboard/coupons/index.html", block="coupon_row", store=store, coupon=coupon, now=utcnow(),
            coupon_status=coupons.coupon_status, filter="all",
        )
    flash(message, "success")
    if back == "coupon":
        return see_other(url_for("coupons.edit", store_id=store.id, coupon_id=coupon.id))
    return see_other(url_for("coupons.index", store_id=store.id))


@bp.post("/<int:coupon_id>/deactivate")
@store_required(Role.ADMIN)
def deactivate(store: Store, coupon_id: int):
    coupon = coupons.get_coupon(db.session, store, coupon_id)
    back = _button()
    if back:
        coupons.deactivate_coupon(db.session, coupon)
        db.session.commit()
    return _after_toggle(store, coupon, back, f"{coupon.code} is inactive: shoppers can no longer use it.")


@bp.post("/<int:coupon_id>/activate")
@store_required(Role.ADMIN)
def activate(store: Store, coupon_id: int):
    coupon = coupons.get_coupon(db.session, store, coupon_id)
    back = _button()
    if back:
        coupons.activate_coupon(db.session, coupon)
        db.session.commit()
    return _after_toggle(store, coupon, back, f"{coupon.code} is active again.")


@bp.post("/<int:coupon_id>/delete")
@store_required(Role.ADMIN)
def delete(store: Store, coupon_id: int):
    """From the list, htmx gets the list again (an empty state once the last one is gone)."""
    coupon = coupons.get_coupon(db.session, store, coupon_id)
    if _button() is None:
        return _expired(store)
    message = f"Coupon {coupon.code} was deleted."
    coupons.delete_coupon(db.session, coupon)
    db.session.commit()
    return fragment_or_see_other(
        lambda: _render_list(store, block="coupon_list", notice=message),
        url=url_for("coupons.index", store_id=store.id), message=message,
    )
