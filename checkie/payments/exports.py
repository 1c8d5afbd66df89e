"""The payments CSV export (dashboard and JSON API): one row per payment, newest first, streamed
in keyset batches (payments.reports.iter_payments) so an export of any size holds little memory.

What was ordered comes from each payment's frozen line (checkout.lines): a `line` column sums it
up on every row, and an export filtered by page adds one `field:<key>` column per custom field
of that page, so a merchant can sort and filter by, say, the pick-up date. Nothing here writes.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.catalog.models import CustomField, Page
from checkie.checkout.lines import answers_by_key, line_summary
from checkie.money import to_major
from checkie.payments.models import Payment
from checkie.payments.reports import PaymentFilters, iter_payments

CSV_COLUMNS = (
    "id", "created_at", "email", "status", "currency", "amount", "amount_minor", "fee", "fee_minor",
    "net", "net_minor", "amount_refunded", "amount_refunded_minor", "page_id", "checkout_session_id",
    "customer_id", "needs_review", "review_reason", "line",
)
#: No filter: every payment of the store.
ALL_PAYMENTS = PaymentFilters()
#: The header of a custom field's column: `field:pickup_date`.
FIELD_COLUMN = "field:{}"


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula (a cell starting with = + - @ is quoted)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(payment: Payment, field_keys: list[str]) -> list:
    def major(minor: int) -> str:
        return str(to_major(minor, payment.currency))

    answers = answers_by_key(payment.line)
    return [
        payment.id, payment.created_at.isoformat(), _cell(payment.email), payment.status.value, payment.currency,
        major(payment.amount), payment.amount, major(payment.fee), payment.fee, major(payment.net), payment.net,
        major(payment.amount_refunded), payment.amount_refunded, payment.page_id or "", payment.session_id or "",
        payment.customer_id or "", "true" if payment.needs_review else "false", _cell(payment.review_reason),
        _cell(line_summary(payment.line)),
        *(_cell(answers.get(key)) for key in field_keys),
    ]


def page_field_keys(db: Session, store_id: int, page_id: int | None) -> list[str]:
    """The custom field keys of the store's page `page_id`, in the page's order (none without a
    page, or for a page of another store)."""
    if page_id is None:
        return []
    return list(db.scalars(
        sa.select(CustomField.key).join(Page, Page.id == CustomField.page_id)
        .where(Page.id == page_id, Page.store_id == store_id)
        .order_by(CustomField.position, CustomField.id)
    ))


def payments_csv(db: Session, store_id: int, filters: PaymentFilters = ALL_PAYMENTS) -> Iterator[str]:
    """The export as CSV text chunks: a header row, then each matching payment, newest first.
    Amounts twice: decimal major units ("12.50") and integer minor units (1250); ISO-8601 UTC
    dates; the line in words; filtered by page, one column per custom field of the page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    field_keys = page_field_keys(db, store_id, filters.page_id)
    writer.writerow([*CSV_COLUMNS, *(FIELD_COLUMN.format(key) for key in field_keys)])
    yield flush()
    for n, payment in enumerate(iter_payments(db, store_id, filters), start=1):
        writer.writerow(_csv_row(payment, field_keys))
        if n % 200 == 0:
            yield flush()
    rest = flush()
    if rest:
        yield rest
