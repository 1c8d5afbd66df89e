"""A payment carries what was ordered (issue 10, item 1): the line is frozen when the money is
captured — page title, options with their deltas, answers under their labels, the coupon — and a
later edit of the page does not rewrite it. The receipt lists the answers; the store owner gets a
new-sale email unless the store turned it off."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.catalog.fields import update_field
from checkie.catalog.models import CustomField, VariantOption
from checkie.catalog.variants import update_option
from checkie.checkout.models import CheckoutState
from checkie.notifications.models import EmailMessage
from checkie.payments import reports
from checkie.payments.outcomes import payment_succeeded
from checkie.stores.services import update_store
from tests.factories import CAKE_ANSWERS, cake_choice, make_cake, open_checkout, paid_cake, start_attempt

CAKE_LINE_ITEMS = [{"variant": "Size", "option": "Large", "price_delta": 500},
                   {"variant": "Filling", "option": "Lemon", "price_delta": 200}]
CAKE_LINE_ANSWERS = [
    {"key": "pickup_date", "label": "Pick-up date", "type": "date", "value": "2026-12-20"},
    {"key": "message", "label": "Message", "type": "textarea", "value": "Happy 30th, Bob!"},
]


def emails(db, kind: str) -> list[EmailMessage]:
    return list(db.scalars(sa.select(EmailMessage).where(EmailMessage.kind == kind).order_by(EmailMessage.id)))


def test_a_payment_freezes_what_was_ordered(db, store):
    page = make_cake(db, store)
    payment = paid_cake(db, page)
    db.commit()

    assert payment.line == {
        "page": {"id": page.id, "title": "Birthday cake"}, "price": 3000,
        "items": CAKE_LINE_ITEMS, "answers": CAKE_LINE_ANSWERS,
        "coupon": {"code": "BDAY10", "discount": 370},
        "subtotal": 3700, "discount": 370, "total": 3330, "currency": "USD",
    }
    assert payment.amount == 3330


def test_editing_the_page_later_does_not_rewrite_the_payment(db, store):
    page = make_cake(db, store)
    payment = paid_cake(db, page)
    db.commit()
    large = db.scalars(sa.select(VariantOption).where(VariantOption.name == "Large")).one()
    update_option(db, large, name="Extra large", price_delta=900)
    message = db.scalars(sa.select(CustomField).where(CustomField.key == "message")).one()
    update_field(db, message, label="Writing on the cake")
    db.commit()

    db.expire_all()
    assert payment.line["items"] == CAKE_LINE_ITEMS
    assert payment.line["answers"] == CAKE_LINE_ANSWERS
    checkout = reports.get_checkout(db, store.id, payment.session_id)
    assert reports.checkout_line(db, checkout, payment) == payment.line


def test_an_unpaid_session_shows_its_current_selection(db, store):
    page = make_cake(db, store)
    checkout = open_checkout(db, page, email="bea@example.com", variant_options=cake_choice(page, "Small", "Chocolate"),
                             custom_fields={"message": "Hi"})
    db.commit()

    line = reports.checkout_line(db, checkout, None)
    assert [(i["variant"], i["option"]) for i in line["items"]] == [("Size", "Small"), ("Filling", "Chocolate")]
    assert line["answers"] == [{"key": "message", "label": "Message", "type": "textarea", "value": "Hi"}]
    assert line["coupon"] is None and line["total"] == 3000


def test_money_kept_for_review_carries_its_line_too(db, store):
    page = make_cake(db, store)
    checkout = open_checkout(db, page, email="bea@example.com", variant_options=cake_choice(page),
                             custom_fields=CAKE_ANSWERS)
    attempt = start_attempt(db, checkout)
    checkout.state = CheckoutState.EXPIRED  # the expiry task won the race
    db.commit()

    payment = payment_succeeded(db, provider=attempt.provider, intent_id=attempt.provider_intent_id,
                                amount=attempt.amount, currency="usd", metadata={})
    db.commit()

    assert payment is not None and payment.needs_review is True
    assert payment.line["items"] == CAKE_LINE_ITEMS and payment.line["answers"] == CAKE_LINE_ANSWERS


def test_the_receipt_lists_the_answers_and_the_coupon(db, store):
    payment = paid_cake(db, make_cake(db, store))
    db.commit()

    [receipt] = emails(db, "receipt")
    assert receipt.to_address == "bea@example.com"
    for body in (receipt.text_body, receipt.html_body):
        assert "Birthday cake" in body and "Large" in body and "Lemon" in body
        assert "Pick-up date" in body and "2026-12-20" in body
        assert "Message" in body and "Happy 30th, Bob!" in body.replace("&#39;", "'")
        assert "BDAY10" in body and "$33.30" in body and f"#{payment.id}" in body


def test_the_owner_hears_of_each_new_sale(db, store):
    payment = paid_cake(db, make_cake(db, store))
    db.commit()

    [sale] = emails(db, "new_sale")
    assert sale.to_address == "owner@example.com"
    assert sale.subject == "Acme Goods: new sale of $33.30"
    for body in (sale.text_body, sale.html_body):
        assert "bea@example.com" in body and "Birthday cake" in body and "Large" in body
        assert "Pick-up date" in body and "2026-12-20" in body and "Happy 30th, Bob!" in body
        assert f"/dashboard/stores/{store.id}/payments/{payment.id}" in body


def test_no_new_sale_email_when_the_store_turned_it_off(db, store):
    update_store(db, store, notify_new_sale=False)
    paid_cake(db, make_cake(db, store))
    db.commit()

    assert emails(db, "new_sale") == []
    assert len(emails(db, "receipt")) == 1
