"""Dashboard: the refund form on a payment's page (amount prefilled with what is left, reasons,
errors beside the fields), the payment's refunds, the store's refunds list; viewers see no form
and may not post it; another store's payment is a 404."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.payments.models import PaymentStatus, Refund
from checkie.stores.models import Role
from tests.factories import add_member, credit_payment, make_payment, make_refund, make_store, make_user
from tests.http import HX, login_as, post_form
from tests.ledger import assert_ledger_consistent


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/payments{rest}"


@pytest.fixture
def payment(db, store):
    payment = make_payment(db, store, amount=10_000)
    credit_payment(db, store, payment)
    db.commit()
    return payment


def refunds_of(db) -> list[Refund]:
    return list(db.scalars(sa.select(Refund).order_by(Refund.id)))


def test_the_form_is_prefilled_with_what_is_left(client, db, store, user, payment):
    make_refund(db, payment, amount=2_550)
    db.commit()
    login_as(client, user)
    html = client.get(url(store, f"/{payment.id}")).get_data(as_text=True)
    assert 'id="refund-form"' in html
    assert 'value="74.50"' in html and "$74.50 is left to refund" in html
    assert 'id="refund-1"' in html and "$25.50" in html


def test_a_merchant_refunds_part_of_a_payment(client, db, store, user, payment):
    login_as(client, user)
    response = post_form(client, url(store, f"/{payment.id}/refund"),
                         {"amount": "30.00", "reason": "duplicate", "note": "Charged twice"}, page=url(store, f"/{payment.id}"))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "$30.00 was refunded" in page and "Charged twice" in page and "Duplicate" in page
    [refund] = refunds_of(db)
    db.refresh(payment)
    assert (refund.amount, refund.reason.value, refund.note) == (3_000, "duplicate", "Charged twice")
    assert (payment.amount_refunded, payment.status) == (3_000, PaymentStatus.PARTIALLY_REFUNDED)
    assert assert_ledger_consistent(db, store.id, "USD") == 9_710 - 3_000


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"amount": "100.01", "reason": "other"}, "amount", "At most $100.00 is left to refund."),
    ({"amount": "0", "reason": "other"}, "amount", "Enter an amount above zero."),
    ({"amount": "ten", "reason": "other"}, "amount", "Enter an amount like 12.50"),
    ({"amount": "1.005", "reason": "other"}, "amount", "USD amounts have at most 2 decimal places"),
    ({"amount": "", "reason": "other"}, "amount", "Enter the amount to refund."),
    ({"amount": "1.00", "reason": "bored"}, "reason", "Choose one of"),
    ({"amount": "1.00", "reason": "other", "note": "x" * 501}, "note", "characters"),
])
def test_bad_input_is_shown_beside_its_field_and_changes_nothing(client, db, store, user, payment, fields, field, message):
    login_as(client, user)
    response = post_form(client, url(store, f"/{payment.id}/refund"), fields, page=url(store, f"/{payment.id}"), headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and 'id="refund-form"' in html
    assert f'id="{field}-error"' in html and message in html
    assert refunds_of(db) == []
    db.refresh(payment)
    assert payment.amount_refunded == 0


def test_a_fully_refunded_payment_has_no_form(client, db, store, user, payment):
    make_refund(db, payment, amount=10_000)
    db.commit()
    login_as(client, user)
    html = client.get(url(store, f"/{payment.id}")).get_data(as_text=True)
    assert 'id="refund-form"' not in html and "Refunded" in html


def test_a_viewer_sees_no_form_and_may_not_refund(client, db, store, payment):
    viewer = make_user(db, email="viewer@example.com")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    assert 'id="refund-form"' not in client.get(url(store, f"/{payment.id}")).get_data(as_text=True)
    response = post_form(client, url(store, f"/{payment.id}/refund"), {"amount": "1.00", "reason": "other"},
                         page=url(store, f"/{payment.id}"))
    assert response.status_code == 403
    assert refunds_of(db) == []
    assert client.get(url(store, "/refunds")).status_code == 200


def test_the_refunds_list_pages_and_links_each_payment(client, db, store, user, payment, monkeypatch):
    from checkie.dashboard import payments as payment_views

    monkeypatch.setattr(payment_views, "PAGE_SIZE", 2)
    made = [make_refund(db, payment, amount=1_000) for _ in range(3)]
    db.commit()
    login_as(client, user)
    first = client.get(url(store, "/refunds")).get_data(as_text=True)
    assert f'id="refund-{made[2].id}"' in first and f'id="refund-{made[0].id}"' not in first
    assert f'href="/dashboard/stores/{store.id}/payments/{payment.id}"' in first
    older = client.get(url(store, f"/refunds?before={made[1].id}")).get_data(as_text=True)
    assert f'id="refund-{made[0].id}"' in older and f'id="refund-{made[1].id}"' not in older
    assert 'href="/dashboard/stores/%d/payments/refunds"' % store.id in client.get(url(store)).get_data(as_text=True)


def test_another_stores_payment_is_404(client, db, store, user):
    other = make_store(db, owner=make_user(db, email="other@example.com"), name="Other", slug="other")
    theirs = make_payment(db, other, amount=5_000)
    db.commit()
    login_as(client, user)
    response = post_form(client, url(store, f"/{theirs.id}/refund"), {"amount": "1.00", "reason": "other"},
                         page=url(store))
    assert response.status_code == 404
    assert refunds_of(db) == []
