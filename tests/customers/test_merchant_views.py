"""What the merchant's customer pages are built from: totals per customer (net of refunds, per
currency, one store only), the email-only search, and the link a merchant emails."""
from __future__ import annotations

import pytest

from checkie.customers import portal
from checkie.customers.models import PortalLinkKind
from checkie.errors import ValidationFailed
from checkie.payments import reports
from checkie.stores import services as store_services
from tests.emails import emails_to, latest_token
from tests.factories import make_customer, make_payment, make_refund, make_store


def test_totals_count_every_payment_and_subtract_refunds_per_currency(db, store):
    ann = make_customer(db, store, email="ann@example.com")
    fully_refunded = make_payment(db, store, amount=1200, customer=ann)
    make_refund(db, fully_refunded, amount=1200)
    make_payment(db, store, amount=1000, customer=ann)
    make_payment(db, store, amount=500, currency="JPY", customer=ann)
    bare = make_customer(db, store, email="bare@example.com")
    totals = reports.customer_totals(db, store.id, [ann.id, bare.id])
    assert totals[ann.id] == reports.CustomerTotals(
        3, [{"currency": "JPY", "amount": 500}, {"currency": "USD", "amount": 1000}])
    assert totals[bare.id] == reports.CustomerTotals(0, [])
    assert reports.customer_totals(db, store.id, []) == {}


def test_totals_never_count_another_stores_payments(db, store):
    ann = make_customer(db, store, email="ann@example.com")
    make_payment(db, make_store(db, name="Other"), amount=999, customer=ann)
    assert reports.customer_totals(db, store.id, [ann.id])[ann.id] == reports.CustomerTotals(0, [])


def test_email_only_search_ignores_names_and_escapes_wildcards(db, store):
    ann = make_customer(db, store, email="ann_1@example.com", name="Zed")
    make_customer(db, store, email="annx1@example.com", name="Ann")
    by_email = db.scalars(reports.customers_query(store.id, search="ann_", email_only=True)).all()
    assert [c.id for c in by_email] == [ann.id]
    assert len(db.scalars(reports.customers_query(store.id, search="ann")).all()) == 2


def test_email_link_queues_the_portal_email_and_replaces_older_links(db, store):
    customer = make_customer(db, store, email="ann@example.com")
    _, older = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    link = portal.email_link(db, store, customer, kind=PortalLinkKind.MERCHANT, app_url="http://localhost")
    db.commit()
    (message,) = emails_to(db, "ann@example.com", "portal_link")
    assert "Acme" in message.subject and "30 minutes" in message.text_body
    assert portal.link_for_token(db, latest_token(db, "ann@example.com", "portal_link", "portal/verify")).id == link.id
    with pytest.raises(portal.LinkRefused):
        portal.link_for_token(db, older)


@pytest.mark.parametrize(("given", "kept"), [("#ABCDEF", "#abcdef"), (" #123abc ", "#123abc"), ("", None)])
def test_brand_colour_is_six_hex_digits_or_nothing(given, kept):
    assert store_services.check_brand_color(given) == kept


@pytest.mark.parametrize("bad", ["#abc", "abcdef", "#abcdeg", "#abcdef0", "red", "#abc\ndef", "#abcdef;x"])
def test_anything_else_is_refused_on_the_field(bad):
    with pytest.raises(ValidationFailed) as refused:
        store_services.check_brand_color(bad)
    assert "brand_color" in refused.value.fields
