"""The three guards, true and false, through apply_event."""
from __future__ import annotations

import pytest

from checkie.catalog.models import PricingType
from checkie.checkout import guards, services
from checkie.checkout.models import CheckoutState
from checkie.checkout.states import CheckoutEvent
from tests.factories import force_state, make_customer, make_field, make_page, open_checkout, payable_checkout

S, E = CheckoutState, CheckoutEvent


def test_is_valid_for_payment_true_moves_to_processing(db, store):
    page = make_page(db, store, publish=True)
    make_field(db, page, label="Company", key="company", required=True)
    session = open_checkout(db, page, email="a@example.com", custom_fields={"company": "Acme"})
    assert guards.is_valid_for_payment(session)
    assert services.apply_event(db, session, E.INITIATE_PAYMENT) is S.PROCESSING


@pytest.mark.parametrize("missing", ["email", "company"])
def test_is_valid_for_payment_false_without_email_or_required_field(db, store, missing):
    page = make_page(db, store, publish=True)
    make_field(db, page, label="Company", key="company", required=True)
    values = {"email": "a@example.com", "custom_fields": {"company": "Acme"}}
    values.pop("custom_fields" if missing == "company" else "email")
    session = open_checkout(db, page, **values)
    problems = guards.payment_problems(session)
    assert list(problems) == (["custom_fields.company"] if missing == "company" else ["email"])
    with pytest.raises(services.InvalidTransition):
        services.apply_event(db, session, E.INITIATE_PAYMENT)
    assert session.state is S.OPEN


def test_customer_counts_as_contact(db, store):
    page = make_page(db, store, publish=True)
    session = open_checkout(db, page)
    assert "email" in guards.payment_problems(session)
    customer = make_customer(db, store, email="c@example.com", name="C")
    session.customer_id = customer.id
    assert guards.is_valid_for_payment(session)


def test_zero_total_is_not_payable_unless_a_trial(db, store):
    page = make_page(db, store, amount=1000, publish=True)
    session = payable_checkout(db, page)
    session.total = 0
    assert guards.payment_problems(session) == {"total": ["There is nothing to pay."]}
    page.pricing_type, page.interval, page.trial_days = PricingType.SUBSCRIPTION, "month", 14
    assert guards.is_valid_for_payment(session)
    page.trial_days = 0
    assert not guards.is_valid_for_payment(session)


@pytest.mark.parametrize(("attempts", "expected"), [(1, S.OPEN), (2, S.OPEN), (3, S.EXPIRED)])
@pytest.mark.parametrize(("from_state", "event"), [(S.PROCESSING, E.PAYMENT_FAILED), (S.AWAITING_ACTION, E.ACTION_FAILED)])
def test_can_retry(db, store, attempts, expected, from_state, event):
    session = force_state(db, payable_checkout(db, make_page(db, store, publish=True)), from_state, attempt_count=attempts)
    assert guards.can_retry(session) is (attempts < 3)
    assert services.apply_event(db, session, event) is expected


@pytest.mark.parametrize(("amount_delta", "currency", "valid"), [
    (0, "usd", True), (0, "USD", True), (-1, "usd", False), (1, "usd", False), (0, "eur", False), (0, None, False),
])
def test_is_amount_valid(db, store, amount_delta, currency, valid):
    session = force_state(db, payable_checkout(db, make_page(db, store, publish=True)), S.PROCESSING)
    amount = session.total + amount_delta
    assert guards.is_amount_valid(session, amount, currency) is valid
    if valid:
        assert services.apply_event(db, session, E.PAYMENT_SUCCEEDED, amount=amount, currency=currency) is S.COMPLETED
    else:
        with pytest.raises(services.InvalidTransition):
            services.apply_event(db, session, E.PAYMENT_SUCCEEDED, amount=amount, currency=currency)
        assert session.state is S.PROCESSING and session.completed_at is None
