"""The guards of the state table (SPEC §4), evaluated against a locked session.

`page` is the session's page (a catalog Page or its catalog.snapshot view: the same
attributes); without it the session's `page` relationship is loaded."""
from __future__ import annotations

from checkie.catalog.answers import validate_answers
from checkie.catalog.models import Page, PricingType
from checkie.catalog.snapshot import PageView
from checkie.checkout.models import CheckoutSession
from checkie.checkout.states import MAX_ATTEMPTS, Guard
from checkie.errors import ValidationFailed


def payment_problems(checkout: CheckoutSession, *, page: Page | PageView | None = None) -> dict[str, list[str]]:
    """Why the session cannot be paid yet, by field (empty: it can). Field names are those of
    `update_checkout`'s errors: `email`, `custom_fields.<key>`, `total`."""
    problems: dict[str, list[str]] = {}
    if not checkout.email and checkout.customer_id is None:
        problems["email"] = ["Enter your email address."]
    page = page if page is not None else checkout.page
    try:
        validate_answers(page, checkout.custom_fields or {})
    except ValidationFailed as error:
        for key, messages in (error.fields or {}).items():
            problems[f"custom_fields.{key}"] = messages
    trial = page.pricing_type is PricingType.SUBSCRIPTION and page.trial_days > 0
    if checkout.total <= 0 and not trial:
        problems["total"] = ["There is nothing to pay."]
    return problems


def is_valid_for_payment(checkout: CheckoutSession, *, page: Page | PageView | None = None) -> bool:
    return not payment_problems(checkout, page=page)


def can_retry(checkout: CheckoutSession) -> bool:
    """The first and second failed attempts send the session back to open; the third ends it.
    `attempt_count` already counts the attempt that just failed."""
    return checkout.attempt_count < MAX_ATTEMPTS


def is_amount_valid(checkout: CheckoutSession, amount: int | None, currency: str | None) -> bool:
    """The PSP's amount (minor units) and currency equal what the session asked for exactly:
    its total, or nothing during a subscription's free trial (a saved card has no currency)."""
    if amount is None or currency is None or amount != checkout.due_now:
        return False
    return amount == 0 or currency.upper() == checkout.currency.upper()


def reads_page(guard: str) -> bool:
    """Whether evaluating `guard` needs the session's page."""
    return Guard(guard) is Guard.IS_VALID_FOR_PAYMENT


def evaluate(
    guard: str, checkout: CheckoutSession, *, amount: int | None = None, currency: str | None = None,
    page: Page | PageView | None = None,
) -> bool:
    """Evaluate a guard by its name in the table."""
    guard = Guard(guard)
    if guard is Guard.IS_VALID_FOR_PAYMENT:
        return is_valid_for_payment(checkout, page=page)
    if guard is Guard.CAN_RETRY:
        return can_retry(checkout)
    return is_amount_valid(checkout, amount, currency)
