"""Dashboard: payouts — the balance per currency (a negative one says so), the bank account
form (last 4 after saving), the request form with its refusals beside the amount, the list and
a payout's page; viewers see it all and change nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.payments.models import Payout, PayoutAccount, TransactionType
from checkie.providers.test_payouts import NO_ACCOUNT, PAID_ACCOUNT, TEST_ROUTING_NUMBER
from checkie.stores.models import Role
from tests.factories import add_ledger_entry, add_member, make_payout, make_user
from tests.http import login_as, post_form
from tests.ledger import assert_ledger_consistent

ACCOUNT = {"account_holder_name": "Ada Lovelace", "routing_number": TEST_ROUTING_NUMBER, "account_number": PAID_ACCOUNT}


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/payouts{rest}"


@pytest.fixture
def owner_client(client, db, store, user):
    add_ledger_entry(db, store, "USD", TransactionType.PAYMENT, 10_000)
    db.commit()
    login_as(client, user)
    return client


def test_the_owner_saves_an_account_and_requests_a_payout_that_is_paid(owner_client, db, store):
    saved = post_form(owner_client, url(store, "/account"), ACCOUNT, page=url(store))
    assert saved.status_code == 303
    page = owner_client.get(url(store)).get_data(as_text=True)
    assert "ending in <strong>6789</strong>" in page and f'value="{PAID_ACCOUNT}"' not in page and "$100.00" in page

    requested = post_form(owner_client, url(store), {"amount": "40.00", "currency": "USD"}, page=url(store))

    assert requested.status_code == 303
    shown = owner_client.get(requested.headers["Location"]).get_data(as_text=True)
    assert "$40.00" in shown and "Paid" in shown
    listed = owner_client.get(url(store)).get_data(as_text=True)
    assert "Payout #1" in listed and "$60.00" in listed
    assert assert_ledger_consistent(db, store.id, "USD") == 6_000


def test_a_failed_payout_shows_its_code(owner_client, db, store):
    post_form(owner_client, url(store, "/account"), {**ACCOUNT, "account_number": NO_ACCOUNT}, page=url(store))

    requested = post_form(owner_client, url(store), {"amount": "100", "currency": "USD"}, page=url(store))

    shown = owner_client.get(requested.headers["Location"]).get_data(as_text=True)
    assert "Failed" in shown and "no_account" in shown
    assert assert_ledger_consistent(db, store.id, "USD") == 10_000


def test_a_wrong_account_is_a_422_beside_each_field_and_saves_nothing(owner_client, db, store):
    answer = post_form(owner_client, url(store, "/account"),
                       {"account_holder_name": "", "routing_number": "12", "account_number": "x"}, page=url(store))

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "A routing number is 9 digits." in page and "An account number is 4 to 17 digits." in page
    assert "Enter the account holder&#39;s name." in page
    assert db.scalar(sa.select(sa.func.count()).select_from(PayoutAccount)) == 0


@pytest.mark.parametrize(("amount", "message"), [
    ("100.01", "a payout of $100.01 is more than that"), ("0.50", "The smallest payout is $1.00."),
    ("abc", "Enter an amount like 12.50"), ("1.001", "at most 2 decimal places"),
])
def test_a_refused_request_is_a_422_beside_the_amount(owner_client, db, store, amount, message):
    post_form(owner_client, url(store, "/account"), ACCOUNT, page=url(store))

    answer = post_form(owner_client, url(store), {"amount": amount, "currency": "USD"}, page=url(store))

    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0


def test_no_bank_account_is_said_beside_the_amount(owner_client, db, store):
    answer = post_form(owner_client, url(store), {"amount": "10", "currency": "USD"}, page=url(store))

    assert answer.status_code == 422 and "Add a bank account before requesting a payout." in answer.get_data(as_text=True)


def test_a_negative_balance_is_shown_with_a_note(client, db, store, user):
    add_ledger_entry(db, store, "USD", TransactionType.REFUND, -500)
    db.commit()
    login_as(client, user)

    page = client.get(url(store)).get_data(as_text=True)

    assert "-$5.00" in page and "refunds gave back more than the store held" in page


def test_viewers_see_payouts_but_no_forms_and_may_not_post(client, db, store):
    payout = make_payout(db, store)
    viewer = make_user(db, email="viewer@example.com", name="Vic Viewer")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)

    page = client.get(url(store)).get_data(as_text=True)
    assert f"Payout #{payout.id}" in page and 'id="payout-form"' not in page and 'id="account-form"' not in page
    assert client.get(url(store, f"/{payout.id}")).status_code == 200
    assert post_form(client, url(store), {"amount": "1", "currency": "USD"}, page=url(store)).status_code == 403
    assert post_form(client, url(store, "/account"), ACCOUNT, page=url(store)).status_code == 403
