"""Dashboard: a store's payouts — the available balance per currency, the bank account (its
number shown as the last 4 digits once saved), a payout request, the payouts newest first
(keyset pages) and one payout. Viewers see everything and change nothing; a refused request
(no account, below the minimum, more than the balance) is a 422 with the reason by its field."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, url_for

from checkie import money
from checkie.dashboard.forms.payouts import PayoutAccountForm, PayoutRequestForm
from checkie.dashboard.guards import store_required
from checkie.errors import DomainError, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import render_page, request, see_other
from checkie.pagination import id_or_none, keyset_page
from checkie.payments import ledger, payouts
from checkie.payments.models import Payout
from checkie.stores.models import Role, Store

bp = Blueprint("payouts", __name__, url_prefix="/dashboard/stores/<int:store_id>/payouts")
PAGE_SIZE = 25


@bp.get("")
@store_required(Role.VIEWER)
def index(store: Store):
    return _render_index(store)


@bp.post("/account")
@store_required(Role.ADMIN)
def save_account(store: Store):
    form = PayoutAccountForm()
    if form.validate_on_submit():
        try:
            payouts.set_payout_account(db.session, store, account_holder_name=form.account_holder_name.data or "",
                                       routing_number=form.routing_number.data or "",
                                       account_number=form.account_number.data or "")
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            flash("The bank account was saved.", "success")
            return see_other(url_for("payouts.index", store_id=store.id))
    return _render_index(store, account_form=form, status=422)


@bp.post("")
@store_required(Role.ADMIN)
def create(store: Store):
    form = _request_form(store)
    if form.validate_on_submit():
        try:
            payout = _request(store, form)
        except DomainError as error:
            copy_errors(form, _on_amount(error))
        else:
            db.session.commit()
            flash(f"Payout #{payout.id} of {money.format_money(payout.amount, payout.currency)} was requested.", "success")
            return see_other(url_for("payouts.show", store_id=store.id, payout_id=payout.id))
    return _render_index(store, request_form=form, status=422)


def _request(store: Store, form: PayoutRequestForm) -> Payout:
    currency = (form.currency.data or "").upper()
    if not money.is_currency(currency):
        raise ValidationFailed.on("currency", "Choose a currency.")
    try:
        amount = money.to_minor(form.amount.data or "", currency)
    except money.MoneyError as error:
        raise ValidationFailed.on("amount", str(error)) from None
    return payouts.request_payout(db.session, store, amount=amount, currency=currency)


def _on_amount(error: DomainError) -> DomainError:
    """A refused payout's reason, shown beside the amount (validation errors keep their fields)."""
    return error if error.fields else ValidationFailed.on("amount", error.message)


@bp.get("/<int:payout_id>")
@store_required(Role.VIEWER)
def show(store: Store, payout_id: int):
    payout = payouts.payout_of(db.session, store, payout_id)
    return render_page("dashboard/payouts/show.html", store=store, payout=payout)


def _request_form(store: Store, *, formdata: bool = True) -> PayoutRequestForm:
    form = PayoutRequestForm() if formdata else PayoutRequestForm(formdata=None, currency=store.currency)
    currencies = [b.currency for b in ledger.balances(db.session, store.id)] or [store.currency.upper()]
    form.currency.choices = [(code, code) for code in currencies]
    return form


def _render_index(store: Store, *, account_form: PayoutAccountForm | None = None,
                  request_form: PayoutRequestForm | None = None, status: int = 200):
    account = payouts.payout_account(db.session, store)
    if account_form is None:
        account_form = PayoutAccountForm(formdata=None, account_holder_name=account.holder_name if account else "",
                                         routing_number=account.routing_number if account else "")
    before = id_or_none(request.args.get("before", type=int))
    page = keyset_page(db.session, sa.select(Payout).where(Payout.store_id == store.id), Payout.id,
                       after=before, limit=PAGE_SIZE)
    return render_page(
        "dashboard/payouts/index.html", status=status, store=store, balances=ledger.balances(db.session, store.id),
        account=account, account_form=account_form, request_form=request_form or _request_form(store, formdata=False),
        payouts=page.rows, next_id=page.next_id, paged=bool(before),
        minimum=payouts.minimum_payout(store.currency),
    )

