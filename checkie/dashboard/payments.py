"""Dashboard: a store's payments — the filtered list (status, page, UTC date range, email search,
needs review), its CSV export (filtered by page: a column per custom field), one payment with
what was ordered, its attempts, session, customer and refunds, and the store's refunds.

Viewers see everything; owners and admins refund (the form on a payment's page). The filter
form is a plain GET form; with htmx it swaps the `payment_list` block and pushes the URL.
Keyset pagination by id, newest first."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, stream_with_context, url_for

from checkie.catalog.models import Page
from checkie.catalog.pages import pages_query
from checkie.dashboard.forms.refunds import RefundForm, amount_in_minor, refund_form_for
from checkie.dashboard.guards import store_required
from checkie.errors import ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, request, see_other
from checkie.money import format_money
from checkie.pagination import id_or_none
from checkie.payments import exports, refunds, reports
from checkie.payments.models import Payment, PaymentStatus
from checkie.stores.models import Role, Store

bp = Blueprint("payments", __name__, url_prefix="/dashboard/stores/<int:store_id>/payments")
PAGE_SIZE = 50
STATUSES = [(s.value, s.value.replace("_", " ").capitalize()) for s in PaymentStatus]


def _date(name: str) -> date | None:
    try:
        value = date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None
    return value if date(1970, 1, 1) <= value <= date(9998, 12, 31) else None


def current_filters() -> tuple[reports.PaymentFilters, dict]:
    """The filters in the query string (what is malformed is ignored), and the same as URL args."""
    status = request.args.get("status", "")
    email = request.args.get("q", "").strip()[:254]
    filters = reports.PaymentFilters(
        status=PaymentStatus(status) if status in {s.value for s in PaymentStatus} else None,
        email=email or None, page_id=id_or_none(request.args.get("page", type=int)),
        date_from=_date("from"), date_to=_date("to"),
        needs_review=True if request.args.get("review") == "1" else None,
    )
    args = {
        "status": filters.status.value if filters.status else None, "q": filters.email, "page": filters.page_id,
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None, "review": "1" if filters.needs_review else None,
    }
    return filters, args


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    filters, args = current_filters()
    before = id_or_none(request.args.get("before", type=int))
    rows, more = reports.list_payments(db.session, store.id, filters, before_id=before, limit=PAGE_SIZE)
    return render_page(
        "dashboard/payments/index.html", block="payment_list", store=store, payments=rows, more=more,
        paged=bool(before), args=args, filtered=any(args.values()), statuses=STATUSES,
        pages=_page_choices(store),
    )


def _page_choices(store: Store) -> list:
    """(id, title) of the store's pages for the page filter, by title."""
    return list(db.session.execute(pages_query(store).with_only_columns(Page.id, Page.title).order_by(Page.title, Page.id)))


@bp.get("/export.csv")
@store_required(Role.VIEWER)
def export(store: Store):
    """The filtered list as CSV, streamed in keyset batches (any size, little memory)."""
    filters, _ = current_filters()
    body = stream_with_context(exports.payments_csv(db.session, store.id, filters))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="payments-{store.slug}.csv"'
    return response


@bp.get("/<int:payment_id>")
@store_required(Role.VIEWER)
def show(store: Store, payment_id: int):
    payment = reports.get_payment(db.session, store.id, payment_id)
    return _render_payment(store, payment, form=refund_form_for(payment))


def _render_payment(store: Store, payment: Payment, *, form: RefundForm, block: str | None = None, status: int = 200):
    customer = reports.get_customer(db.session, store.id, payment.customer_id) if payment.customer_id else None
    return render_page(
        "dashboard/payments/show.html", block=block, status=status, store=store, payment=payment, customer=customer,
        attempts=reports.payment_attempts(db.session, payment), form=form,
        refunds=refunds.list_refunds(db.session, store.id, payment_id=payment.id, limit=PAGE_SIZE).rows,
    )


@bp.post("/<int:payment_id>/refund")
@store_required(Role.ADMIN)
def refund(store: Store, payment_id: int):
    payment = reports.get_payment(db.session, store.id, payment_id)
    form = RefundForm()
    if form.validate_on_submit():
        amount = amount_in_minor(form, payment.currency)
        if amount is not None:
            try:
                made = refunds.refund_payment(db.session, payment, amount=amount, reason=form.reason.data,
                                              note=form.note.data)
            except ValidationFailed as error:
                db.session.rollback()
                copy_errors(form, error)
            else:
                db.session.commit()
                _flash_outcome(made)
                return see_other(url_for("payments.show", store_id=store.id, payment_id=payment.id))
    return _render_payment(store, payment, form=form, block="refund_form", status=422)


def _flash_outcome(refund) -> None:
    amount = format_money(refund.amount, refund.currency)
    if refund.status.value == "succeeded":
        flash(f"{amount} was refunded. The customer has been emailed.", "success")
    else:
        flash(f"The provider refused the refund of {amount} ({refund.failure_code}); nothing was refunded.", "error")


@bp.get("/refunds")
@store_required(Role.VIEWER)
def refund_list(store: Store):
    before = id_or_none(request.args.get("before", type=int))
    rows, more = refunds.list_refunds(db.session, store.id, before_id=before, limit=PAGE_SIZE)
    return render_page("dashboard/payments/refunds.html", store=store, refunds=rows, more=more, paged=bool(before))
