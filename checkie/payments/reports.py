"""Read-only queries for the merchant's view of checkouts and money (dashboard and JSON API).

Lists use keyset pagination (checkie.pagination) on indexed columns, newest first: payments by
`(store_id, id)`, checkout sessions and ledger rows by `(store_id, created_at)` with the id as
tie-breaker. No OFFSET, no COUNT(*) and no SUM over a store's whole history per request:
balances come from StoreBalance (the ledger's head), reports and charts aggregate a bounded
date range.
Nothing here writes or commits.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.catalog.models import Page, PageStats
from checkie.checkout import lines
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.customers.models import Customer
from checkie.errors import NotFound, ValidationFailed
from checkie.pagination import Slice, keyset_page
from checkie.payments.models import (
    BalanceTransaction,
    Payment,
    PaymentAttempt,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
    StoreBalance,
    TransactionType,
)

_WHOLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

#: The longest range a balance report or chart may span: keeps the aggregate bounded.
MAX_REPORT_DAYS = 731


class Period(str, enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class PaymentFilters:
    """What the payments list, its export and the API narrow by. Dates are inclusive UTC days."""

    status: PaymentStatus | None = None
    email: str | None = None
    page_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    needs_review: bool | None = None


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# ---------------------------------------------------------------- payments

def payments_query(store_id: int, filters: PaymentFilters = PaymentFilters()) -> sa.Select[Payment]:
    """The store's payments narrowed by `filters` (unordered: callers page by id)."""
    stmt = sa.select(Payment).where(Payment.store_id == store_id)
    if filters.status is not None:
        stmt = stmt.where(Payment.status == filters.status)
    if filters.email:
        needle = filters.email.strip().lower()
        if _WHOLE_ADDRESS.fullmatch(needle):
            # Payments store normalized (lower-case) addresses: an exact match uses the email index.
            stmt = stmt.where(Payment.email == needle)
        else:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(sa.func.lower(Payment.email).like(f"%{escaped}%", escape="\\"))
    if filters.page_id is not None:
        stmt = stmt.where(Payment.page_id == filters.page_id)
    if filters.date_from is not None:
        stmt = stmt.where(Payment.created_at >= day_start(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(Payment.created_at < day_start(filters.date_to + timedelta(days=1)))
    if filters.needs_review is not None:
        stmt = stmt.where(Payment.needs_review.is_(filters.needs_review))
    return stmt


def list_payments(db: Session, store_id: int, filters: PaymentFilters = PaymentFilters(), *,
                  before_id: int | None = None, limit: int = 25) -> Slice[Payment]:
    return keyset_page(db, payments_query(store_id, filters), Payment.id, after=before_id, limit=limit)


def iter_payments(db: Session, store_id: int, filters: PaymentFilters = PaymentFilters(), *,
                  batch: int = 500) -> Iterator[Payment]:
    """Every matching payment, newest first, read in keyset batches (exports of any size
    without holding them all in memory)."""
    before = None
    while True:
        rows, more = list_payments(db, store_id, filters, before_id=before, limit=batch)
        yield from rows
        if not more:
            return
        before = rows[-1].id
        for row in rows:  # written out: do not keep the batch in the identity map
            db.expunge(row)


def get_payment(db: Session, store_id: int, payment_id: int) -> Payment:
    payment = db.get(Payment, payment_id) if 0 < payment_id < 2**63 else None
    if payment is None or payment.store_id != store_id:
        raise NotFound("No such payment.")
    return payment


def payment_attempts(db: Session, payment: Payment) -> list[PaymentAttempt]:
    """The attempts of the payment's checkout session (all of them, failed ones too)."""
    if payment.session_id is None:
        return []
    return checkout_attempts(db, payment.session_id)


# ---------------------------------------------------------------- checkout sessions

def get_checkout(db: Session, store_id: int, session_id: str) -> CheckoutSession:
    checkout = db.get(CheckoutSession, session_id) if len(session_id) <= 64 else None
    if checkout is None or checkout.store_id != store_id:
        raise NotFound("No such checkout session.")
    return checkout


def checkout_attempts(db: Session, session_id: str) -> list[PaymentAttempt]:
    return list(db.scalars(
        sa.select(PaymentAttempt).where(PaymentAttempt.session_id == session_id).order_by(PaymentAttempt.number)
    ))


def checkout_payment(db: Session, checkout: CheckoutSession) -> Payment | None:
    """The (first) payment recorded for the session, if it was paid."""
    return db.scalar(
        sa.select(Payment).where(Payment.store_id == checkout.store_id, Payment.session_id == checkout.id)
        .order_by(Payment.id).limit(1)
    )


def checkout_line(db: Session, checkout: CheckoutSession, payment: Payment | None) -> dict:
    """What the session sells: the line frozen on its payment once paid, else its selection now."""
    if payment is not None and payment.line:
        return payment.line
    return lines.current_line(db, checkout)


def list_checkouts(db: Session, store_id: int, *, state: CheckoutState | None = None, after: str | None = None,
                  limit: int = 25) -> Slice[CheckoutSession]:
    """Newest first by (created_at, id) — the (store_id, created_at) index. `after` is the id of
    the last session of the previous page; one of another store (or none) raises InvalidCursor."""
    stmt = sa.select(CheckoutSession).where(CheckoutSession.store_id == store_id)
    if state is not None:
        stmt = stmt.where(CheckoutSession.state == state)
    return keyset_page(db, stmt, CheckoutSession.created_at, CheckoutSession.id, after=after, limit=limit,
                       scope=[CheckoutSession.store_id == store_id])


# ---------------------------------------------------------------- customers

def customers_query(store_id: int, *, search: str | None = None, email_only: bool = False) -> sa.Select[Customer]:
    """The store's customers whose email (or, unless `email_only`, name) contains `search`."""
    stmt = sa.select(Customer).where(Customer.store_id == store_id)
    if search:
        escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        matches: sa.ColumnElement[bool] = Customer.email.like(pattern, escape="\\")
        if not email_only:
            matches = sa.or_(matches, sa.func.lower(Customer.name).like(pattern, escape="\\"))
        stmt = stmt.where(matches)
    return stmt


def get_customer(db: Session, store_id: int, customer_id: int) -> Customer:
    customer = db.get(Customer, customer_id) if 0 < customer_id < 2**63 else None
    if customer is None or customer.store_id != store_id:
        raise NotFound("No such customer.")
    return customer


def customer_payments_query(customer: Customer) -> sa.Select[Payment]:
    return sa.select(Payment).where(Payment.store_id == customer.store_id, Payment.customer_id == customer.id)


@dataclass(frozen=True)
class CustomerTotals:
    """What a customer paid the store: how many payments, and per currency the captured amount
    minus what was refunded (minor units; refunded payments count, at what is left of them)."""

    payment_count: int = 0
    total_spent: list[dict] = field(default_factory=list)


def customer_totals(db: Session, store_id: int, customer_ids: list[int]) -> dict[int, CustomerTotals]:
    """Totals for one page of customers in one grouped query (the payments' customer_id index);
    a customer without payments gets zeros."""
    rows = db.execute(
        sa.select(Payment.customer_id, Payment.currency, sa.func.count(), sa.func.sum(Payment.amount - Payment.amount_refunded))
        .where(Payment.store_id == store_id, Payment.customer_id.in_(customer_ids))
        .group_by(Payment.customer_id, Payment.currency).order_by(Payment.customer_id, Payment.currency)
    ).all() if customer_ids else []
    counts: dict[int, int] = {}
    spent: dict[int, list[dict]] = {}
    for customer_id, currency, count, amount in rows:
        owner = cast(int, customer_id)  # never NULL: the IN above
        counts[owner] = counts.get(owner, 0) + count
        spent.setdefault(owner, []).append({"currency": currency, "amount": int(amount)})
    return {customer_id: CustomerTotals(counts.get(customer_id, 0), spent.get(customer_id, []))
            for customer_id in customer_ids}


# ---------------------------------------------------------------- balance and ledger

def ledger_query(store_id: int, *, currency: str | None = None) -> sa.Select[BalanceTransaction]:
    stmt = sa.select(BalanceTransaction).where(BalanceTransaction.store_id == store_id)
    if currency:
        stmt = stmt.where(BalanceTransaction.currency == currency.upper())
    return stmt


def list_ledger(db: Session, store_id: int, *, currency: str | None = None, before_id: int | None = None,
                limit: int = 25) -> Slice[BalanceTransaction]:
    """Newest first by (created_at, id): the (store_id, created_at) index serves it. `before_id`
    is the last row of the previous page; one of another store raises InvalidCursor."""
    return keyset_page(db, ledger_query(store_id, currency=currency), BalanceTransaction.created_at,
                       BalanceTransaction.id, after=before_id, limit=limit,
                       scope=[BalanceTransaction.store_id == store_id])


@dataclass
class ReportRow:
    """One bucket of the balance report, minor units: net = gross − fees − refunds. `payouts`
    is what left for the bank account (payout rows less the reversals of failed ones): money
    moved out of the balance, not earned or lost, so it is not part of net."""

    start: date
    currency: str
    gross: int = 0
    fees: int = 0
    refunds: int = 0
    payouts: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.fees - self.refunds


def bucket_start(day: date, period: Period) -> date:
    """The first day of `day`'s bucket: the day, its ISO week's Monday, or the 1st of its month."""
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValidationFailed.on("to", "The end date must not be before the start date.")
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise ValidationFailed.on("to", f"A report spans at most {MAX_REPORT_DAYS} days.")


def _day_bucket(db: Session, column):
    """The UTC day of a timestamp column (PostgreSQL: date_trunc; SQLite: strftime)."""
    if db.get_bind().dialect.name == "postgresql":
        return sa.func.date_trunc("day", sa.func.timezone("UTC", column))
    return sa.func.strftime("%Y-%m-%d", column)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def balance_report(db: Session, store_id: int, *, period: Period, date_from: date, date_to: date) -> list[ReportRow]:
    """Gross (payments), fees, refunds and net per bucket and currency over inclusive UTC days,
    from the ledger rows of that range (the (store_id, created_at) index). PostgreSQL groups by
    date_trunc(period); SQLite groups by day and the days are folded into buckets here."""
    check_range(date_from, date_to)
    ledger = BalanceTransaction
    postgres = db.get_bind().dialect.name == "postgresql"
    unit = period.value if postgres else "day"
    bucket = (sa.func.date_trunc(unit, sa.func.timezone("UTC", ledger.created_at)) if postgres
              else sa.func.strftime("%Y-%m-%d", ledger.created_at))
    kinds = (TransactionType.PAYMENT, TransactionType.FEE, TransactionType.REFUND,
             TransactionType.PAYOUT, TransactionType.PAYOUT_REVERSAL)
    stmt = (
        sa.select(bucket.label("bucket"), ledger.currency, ledger.type, sa.func.sum(ledger.amount))
        .where(ledger.store_id == store_id, ledger.type.in_(kinds),
               ledger.created_at >= day_start(date_from), ledger.created_at < day_start(date_to + timedelta(days=1)))
        .group_by(bucket, ledger.currency, ledger.type)
    )
    rows: dict[tuple[date, str], ReportRow] = {}
    for when, currency, kind, total in db.execute(stmt):
        start = bucket_start(_as_date(when), period)
        row = rows.setdefault((start, currency), ReportRow(start=start, currency=currency))
        if kind == TransactionType.PAYMENT:
            row.gross += int(total)
        elif kind == TransactionType.FEE:
            row.fees -= int(total)  # fee rows are debits (negative)
        elif kind == TransactionType.REFUND:
            row.refunds -= int(total)
        else:
            row.payouts -= int(total)  # payouts debit, their reversals credit
    return [rows[key] for key in sorted(rows)]


# ---------------------------------------------------------------- the store overview

@dataclass(frozen=True)
class StoreOverview:
    """The overview numbers. Payments and revenue come from the running totals on the store's
    balance rows (kept by the ledger with every payment: no aggregate over a store's history);
    views, sessions and conversions from the pages' atomic counters; what was refunded and paid out
    from the refunds and payouts themselves (far fewer rows than payments or the ledger)."""

    payments: int = 0
    #: [{"currency": "USD", "amount": <minor units>}], the store's currency first.
    revenue: list[dict] = field(default_factory=list)
    #: The same shape: refunds that succeeded, and payouts paid or on their way to the bank.
    refunded: list[dict] = field(default_factory=list)
    paid_out: list[dict] = field(default_factory=list)
    page_views: int = 0
    checkout_sessions: int = 0
    conversions: int = 0

    @property
    def conversion_rate(self) -> float:
        """Completed checkouts per opened checkout session, 0–1."""
        if not self.checkout_sessions:
            return 0.0
        return min(self.conversions / self.checkout_sessions, 1.0)


def store_overview(db: Session, store) -> StoreOverview:
    by_currency = db.execute(
        sa.select(StoreBalance.currency, StoreBalance.payment_count, StoreBalance.payment_volume)
        .where(StoreBalance.store_id == store.id, StoreBalance.payment_count > 0)
    ).all()
    counters = db.execute(
        sa.select(sa.func.coalesce(sa.func.sum(PageStats.views), 0), sa.func.coalesce(sa.func.sum(PageStats.sessions), 0),
                  sa.func.coalesce(sa.func.sum(PageStats.conversions), 0))
        .join(Page, Page.id == PageStats.page_id).where(Page.store_id == store.id)
    ).one()
    revenue = _store_currency_first(store, [(c, total) for c, _, total in by_currency])
    return StoreOverview(
        payments=sum(count for _, count, _ in by_currency), revenue=revenue,
        refunded=_totals(db, store, Refund, Refund.status == RefundStatus.SUCCEEDED),
        paid_out=_totals(db, store, Payout, Payout.status != PayoutStatus.FAILED),
        page_views=int(counters[0]), checkout_sessions=int(counters[1]), conversions=int(counters[2]),
    )


def _totals(db: Session, store, model, condition: sa.ColumnElement[bool]) -> list[dict]:
    """The store's sum of `model.amount` per currency over the rows meeting `condition`."""
    rows = db.execute(
        sa.select(model.currency, sa.func.sum(model.amount)).where(model.store_id == store.id, condition)
        .group_by(model.currency)
    ).all()
    return _store_currency_first(store, rows)


def _store_currency_first(store, totals) -> list[dict]:
    return sorted(({"currency": c, "amount": int(total or 0)} for c, total in totals),
                  key=lambda r: (r["currency"] != store.currency, r["currency"]))


@dataclass(frozen=True)
class ChartPoint:
    day: date
    amount: int


def revenue_by_day(db: Session, store_id: int, currency: str, *, days: int = 30, today: date | None = None) -> list[ChartPoint]:
    """Gross payment amounts per UTC day for the last `days` days (zeros included), oldest first."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    bucket = _day_bucket(db, Payment.created_at)
    stmt = (
        sa.select(bucket.label("bucket"), sa.func.sum(Payment.amount))
        .where(Payment.store_id == store_id, Payment.currency == currency,
               Payment.created_at >= day_start(first), Payment.created_at < day_start(today + timedelta(days=1)))
        .group_by(bucket)
    )
    sums = {_as_date(when): int(total) for when, total in db.execute(stmt)}
    return [ChartPoint(day, sums.get(day, 0)) for day in (first + timedelta(days=n) for n in range(days))]
