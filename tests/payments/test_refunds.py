"""payments.refunds.refund_payment (SPEC §3 Refund): partial and full refunds move the payment,
the ledger (one `refund` row, the fee kept), the customer's email and `payment.refunded`; more
than what is left changes nothing; concurrent refunds never pass the payment's amount."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie import providers
from checkie.errors import ValidationFailed
from checkie.notifications.models import EmailMessage
from checkie.payments import refunds
from checkie.payments.models import BalanceTransaction, Payment, PaymentStatus, Refund, RefundStatus, TransactionType
from checkie.providers.base import RefundResult
from checkie.webhooks import services as webhooks
from checkie.webhooks.models import WebhookEvent
from tests.concurrency import run_concurrently
from tests.factories import credit_payment, make_payment
from tests.ledger import assert_ledger_consistent, ledger_rows


def paid(db, store, amount: int = 10_000, email: str | None = "buyer@example.com") -> Payment:
    payment = make_payment(db, store, amount=amount, email=email)
    credit_payment(db, store, payment)
    db.commit()
    return payment


def test_a_partial_then_a_full_refund(db, store):
    # An endpoint listens, so the events are kept (an event nobody listens to is not).
    webhooks.create_endpoint(db, store, url="http://127.0.0.1:9/hooks", events=["payment.refunded"])
    payment = paid(db, store)  # fee 290: the balance starts at 9,710

    first = refunds.refund_payment(db, payment, amount=3_000, reason="duplicate", note="Charged twice")
    db.commit()
    assert (first.status, first.amount, first.reason.value, first.note) == (RefundStatus.SUCCEEDED, 3_000, "duplicate", "Charged twice")
    assert first.provider_refund_id.startswith("re_")
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 3_000)
    assert assert_ledger_consistent(db, store.id, "USD") == 6_710

    second = refunds.refund_payment(db, payment, amount=7_000, reason=None)
    db.commit()
    assert second.reason.value == "requested_by_customer"
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 10_000)
    # The fee is not given back: the store is 290 short.
    assert assert_ledger_consistent(db, store.id, "USD") == -290
    refund_rows = [row for row in ledger_rows(db, store.id, "USD") if row.type is TransactionType.REFUND]
    assert [(row.amount, row.payment_id) for row in refund_rows] == [(-3_000, payment.id), (-7_000, payment.id)]

    emails = list(db.scalars(sa.select(EmailMessage).where(EmailMessage.kind == "refund").order_by(EmailMessage.id)))
    assert [email.to_address for email in emails] == ["buyer@example.com"] * 2
    assert "$30.00" in emails[0].text_body and "fully refunded" in emails[1].text_body

    events = list(db.scalars(sa.select(WebhookEvent).where(WebhookEvent.type == "payment.refunded").order_by(WebhookEvent.created_at)))
    assert [(e.data["status"], e.data["amountRefunded"], e.data["refund"]["amount"]) for e in events] == [
        ("partially_refunded", 3_000, 3_000), ("refunded", 10_000, 7_000),
    ]
    assert events[0].data["refund"] == {"id": first.id, "paymentId": payment.id, "amount": 3_000, "currency": "USD",
                                         "reason": "duplicate", "status": "succeeded",
                                         "createdAt": events[0].data["refund"]["createdAt"]}


@pytest.mark.parametrize("amount", [10_001, 0, -5])
def test_a_refund_outside_what_is_left_changes_nothing(db, store, amount):
    payment = paid(db, store)
    refunds.refund_payment(db, payment, amount=4_000, reason="other")
    db.commit()

    with pytest.raises(ValidationFailed) as refused:
        refunds.refund_payment(db, payment, amount=amount if amount <= 0 else 6_001, reason="other")
    db.rollback()
    assert refused.value.code == "refund_exceeds_payment" and refused.value.status == 422
    assert "amount" in refused.value.fields
    db.expire_all()
    assert (payment.amount_refunded, payment.status) == (4_000, PaymentStatus.PARTIALLY_REFUNDED)
    assert db.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1
    assert assert_ledger_consistent(db, store.id, "USD") == 9_710 - 4_000


def test_an_unknown_reason_or_a_long_note_is_refused(db, store):
    payment = paid(db, store)
    with pytest.raises(ValidationFailed) as bad_reason:
        refunds.refund_payment(db, payment, amount=100, reason="because")
    with pytest.raises(ValidationFailed) as long_note:
        refunds.refund_payment(db, payment, amount=100, reason="other", note="x" * 501)
    db.rollback()
    assert list(bad_reason.value.fields) == ["reason"] and list(long_note.value.fields) == ["note"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0


def test_forty_concurrent_refunds_never_pass_the_payment(app, db, store):
    # No email address: a receipt sent from 40 committing threads would exhaust the test pool.
    payment = paid(db, store, email=None)
    payment_id, store_id = payment.id, store.id

    def refund(session, _index):
        try:
            return refunds.refund_payment(session, session.get_one(Payment, payment_id), amount=3_000, reason="other").id
        except ValidationFailed as refused:
            session.rollback()
            return refused.code

    outcomes = run_concurrently(app, 40, refund)

    succeeded = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert len(succeeded) == 3
    assert set(outcomes) - set(succeeded) == {"refund_exceeds_payment"}
    db.expire_all()
    assert db.get_one(Payment, payment_id).amount_refunded == 9_000
    refund_rows = db.scalars(sa.select(BalanceTransaction).where(BalanceTransaction.type == TransactionType.REFUND)).all()
    assert sorted(row.amount for row in refund_rows) == [-3_000] * 3
    assert assert_ledger_consistent(db, store_id, "USD") == 9_710 - 9_000


def test_a_refund_the_provider_refuses_is_kept_as_failed_and_moves_nothing(db, store, monkeypatch):
    payment = paid(db, store)
    asked = []

    class RefusingProvider:
        def refund(self, **request):
            asked.append(request)
            return RefundResult("re_refused", "failed", failure_code="charge_disputed")

    monkeypatch.setattr(providers, "by_name", lambda name: RefusingProvider())
    refund = refunds.refund_payment(db, payment, amount=1_000, reason="other")
    db.commit()

    assert (refund.status, refund.failure_code, refund.provider_refund_id) == (RefundStatus.FAILED, "charge_disputed", "re_refused")
    assert asked == [{"payment_intent_id": payment.provider_payment_id, "amount": 1_000, "currency": "usd",
                      "idempotency_key": f"refund_{refund.id}"}]
    assert (payment.amount_refunded, payment.status) == (0, PaymentStatus.SUCCEEDED)
    assert assert_ledger_consistent(db, store.id, "USD") == 9_710
    assert db.scalar(sa.select(sa.func.count()).select_from(EmailMessage).where(EmailMessage.kind == "refund")) == 0
