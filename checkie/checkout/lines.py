"""The order line: what a checkout sells, in the words the merchant used when it was sold.

A session keeps the shopper's choice as ids ({"<variant id>": option id}) and answers keyed by
field key; ids and keys mean nothing to a person, and the page they point at can be edited or
deleted later. So when money is captured, payments.outcomes freezes the line on the Payment (a
JSON column) and every later view — dashboard, CSV, JSON, emails — reads that copy: an edit of
the page does not rewrite history. A session that is not paid yet shows its line as of now.

The shape (amounts in minor units of `currency`):

    {"page": {"id": 12, "title": "Birthday cake"},
     "price": 3000,
     "items": [{"variant": "Size", "option": "Large", "price_delta": 500}],
     "answers": [{"key": "pickup_date", "label": "Pick-up date", "type": "date", "value": "2026-12-20"}],
     "coupon": {"code": "BDAY10", "discount": 350} | None,
     "subtotal": 3500, "discount": 350, "total": 3150, "currency": "USD"}

`value` is the stored answer: a string for every type but checkbox (True/False); `answer_text`
writes it for people. Answers follow the page's field order; an answer to a field the page no
longer has keeps its key as its label.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from checkie.catalog.models import Coupon
from checkie.catalog.snapshot import PageView
from checkie.checkout import locks
from checkie.checkout.models import CheckoutSession
from checkie.money import format_money, is_currency


def current_line(db: Session, checkout: CheckoutSession) -> dict:
    """The session's line as of now: its page (catalog.snapshot, cached), choice, answers and coupon."""
    coupon = db.get(Coupon, checkout.coupon_id) if checkout.coupon_id is not None else None
    return line_of(locks.checkout_page(db, checkout), checkout, coupon_code=coupon.code if coupon else None)


def line_of(page: PageView, checkout: CheckoutSession, *, coupon_code: str | None) -> dict:
    """The line of `checkout` on `page` (see the module docstring for its shape)."""
    chosen = checkout.variant_options or {}
    items = [
        {"variant": variant.name, "option": option.name, "price_delta": option.price_delta}
        for variant in page.variants for option in variant.options
        if chosen.get(str(variant.id)) == option.id
    ]
    return {
        "page": {"id": page.id, "title": page.title},
        "price": page.amount,
        "items": items,
        "answers": _answers(page, checkout.custom_fields or {}),
        "coupon": {"code": coupon_code, "discount": checkout.discount} if coupon_code else None,
        "subtotal": checkout.subtotal, "discount": checkout.discount, "total": checkout.total,
        "currency": checkout.currency.upper(),
    }


def _answers(page: PageView, answers: dict) -> list[dict]:
    known = [
        {"key": field.key, "label": field.label, "type": field.type.value, "value": answers[field.key]}
        for field in page.custom_fields if field.key in answers
    ]
    keys = {field.key for field in page.custom_fields}
    orphans = [{"key": key, "label": key, "type": "text", "value": value}
               for key, value in answers.items() if key not in keys]
    return known + orphans


def answer_text(value: object) -> str:
    """An answer as people read it: a checkbox is Yes/No, anything else its stored text."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "" if value is None else str(value)


def answers_by_key(line: dict | None) -> dict[str, str]:
    """{field key: answer text} of a line (none for a payment without one)."""
    return {answer["key"]: answer_text(answer["value"]) for answer in (line or {}).get("answers", [])}


def line_summary(line: dict | None) -> str:
    """The line on one row of text (the CSV's `line` column):
    "Birthday cake; Size: Large (+$5.00); Pick-up date: 2026-12-20; coupon BDAY10 (−$3.50)"."""
    if not line:
        return ""
    currency = line.get("currency", "")
    parts = [line["page"]["title"]]
    for item in line["items"]:
        delta = f" ({_signed(item['price_delta'], currency)})" if item["price_delta"] else ""
        parts.append(f"{item['variant']}: {item['option']}{delta}")
    parts += [f"{answer['label']}: {answer_text(answer['value'])}" for answer in line["answers"]]
    if line.get("coupon"):
        parts.append(f"coupon {line['coupon']['code']} (−{_amount(line['coupon']['discount'], currency)})")
    return "; ".join(parts)


def _signed(minor: int, currency: str) -> str:
    return ("+" if minor > 0 else "−") + _amount(abs(minor), currency)


def _amount(minor: int, currency: str) -> str:
    """Formatted money; a currency money.py does not know is written as minor units and code."""
    return format_money(minor, currency) if is_currency(currency) else f"{minor} {currency}"
