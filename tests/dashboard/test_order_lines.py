"""Dashboard: what was ordered (issue 10, item 1) on the payment page, the session page, the
payments list (page title) and the CSV export (a `line` column; filtered by page, one column per
custom field); the store setting "Email me about each new sale"."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from checkie.catalog.models import VariantOption
from checkie.catalog.variants import update_option
from tests.factories import cake_choice, make_cake, make_page, make_payment, open_checkout, paid_cake
from tests.http import HX, login_as, post_form


@pytest.fixture
def owner_client(client, user):
    login_as(client, user)
    return client


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_payment_page_shows_the_order_as_it_was_paid(owner_client, db, store):
    payment = paid_cake(db, make_cake(db, store))
    db.commit()
    large = db.scalars(sa.select(VariantOption).where(VariantOption.name == "Large")).one()
    update_option(db, large, name="Huge")
    db.commit()

    page = owner_client.get(f"/dashboard/stores/{store.id}/payments/{payment.id}").get_data(as_text=True)
    assert "Birthday cake" in page and "Large" in page and "(+$5.00)" in page and "Huge" not in page
    assert "Lemon" in page and "(+$2.00)" in page
    assert "Pick-up date" in page and "2026-12-20" in page
    assert "Message" in page and "Happy 30th, Bob!" in page.replace("&#39;", "'")
    assert "BDAY10" in page and "$33.30" in page


def test_payments_list_names_the_page(owner_client, db, store):
    paid_cake(db, make_cake(db, store))
    make_payment(db, store, amount=999)  # recorded without a line
    db.commit()
    body = owner_client.get(f"/dashboard/stores/{store.id}/payments", headers=HX).get_data(as_text=True)
    assert "<html" not in body and "<th scope=\"col\">Page</th>" in body and '<td class="clip-narrow" title="Birthday cake">Birthday cake</td>' in body


def test_session_page_shows_the_paid_line_or_the_current_selection(owner_client, db, store):
    cake = make_cake(db, store)
    payment = paid_cake(db, cake)
    unpaid = open_checkout(db, cake, email="cy@example.com", variant_options=cake_choice(cake, "Small", "Chocolate"),
                           custom_fields={"message": "Congrats"})
    db.commit()

    paid_page = owner_client.get(f"/dashboard/stores/{store.id}/sessions/{payment.session_id}").get_data(as_text=True)
    assert "Happy 30th, Bob!" in paid_page.replace("&#39;", "'") and "2026-12-20" in paid_page
    assert "As ordered when the payment was made" in paid_page
    open_page = owner_client.get(f"/dashboard/stores/{store.id}/sessions/{unpaid.id}").get_data(as_text=True)
    assert "Small" in open_page and "Chocolate" in open_page and "Congrats" in open_page
    assert "current selection" in open_page and "Happy 30th" not in open_page


def test_csv_has_the_line_and_one_column_per_field_when_filtered_by_page(owner_client, db, store):
    cake = make_cake(db, store)
    other = make_page(db, store, title="Gift card", slug="gift", amount=1000)
    paid_cake(db, cake)
    make_payment(db, store, amount=1000, page_id=other.id)
    db.commit()
    export = f"/dashboard/stores/{store.id}/payments/export.csv"

    everything = csv_rows(owner_client.get(export))
    assert len(everything) == 2 and not any(name.startswith("field:") for name in everything[0])
    cake_row = next(row for row in everything if row["line"])
    assert cake_row["line"] == ("Birthday cake; Size: Large (+$5.00); Filling: Lemon (+$2.00); "
                                "Pick-up date: 2026-12-20; Message: Happy 30th, Bob!; coupon BDAY10 (−$3.70)")

    [row] = csv_rows(owner_client.get(export, query_string={"page": cake.id}))
    assert (row["field:pickup_date"], row["field:message"]) == ("2026-12-20", "Happy 30th, Bob!")
    assert row["line"] == cake_row["line"]


def test_payments_can_be_filtered_by_page(owner_client, db, store):
    cake = make_cake(db, store)
    other = make_page(db, store, title="Gift card", slug="gift", amount=1000)
    paid_cake(db, cake)
    make_payment(db, store, amount=1234, page_id=other.id)
    db.commit()
    body = owner_client.get(f"/dashboard/stores/{store.id}/payments", query_string={"page": other.id}).get_data(as_text=True)
    assert "$12.34" in body and "$33.30" not in body
    assert f'<option value="{other.id}" selected>Gift card</option>' in body


def test_new_sale_email_setting_is_on_by_default_and_can_be_turned_off(owner_client, db, store):
    settings_url = f"/dashboard/stores/{store.id}/settings"
    page = owner_client.get(settings_url).get_data(as_text=True)
    assert "Email me about each new sale" in page and 'checked id="notify_new_sale"' in page

    post_form(owner_client, settings_url, {"name": "Acme Goods", "slug": "acme", "currency": "USD"})
    db.expire_all()
    assert store.notify_new_sale is False
    post_form(owner_client, settings_url, {"name": "Acme Goods", "slug": "acme", "currency": "USD", "notify_new_sale": "y"})
    db.expire_all()
    assert store.notify_new_sale is True
