"""Dashboard: the test-mode bar — the store's clock on every store page while payments go
through the test provider, and its button, which moves the clock and charges what falls due
(a trial's end), then goes back to the page it was pressed on. Bad days are a 422 beside the
field; viewers see the clock but no button; outside test mode there is no bar and no button."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.payments.models import Payment
from checkie.stores.models import Role
from checkie.subscriptions import clock
from checkie.subscriptions.models import SubscriptionStatus
from tests.factories import add_member, make_user
from tests.http import login_as, post_form
from tests.subscription_factories import subscribe


def advance_url(store) -> str:
    return f"/dashboard/stores/{store.id}/test-clock/advance"


@pytest.fixture
def owner_client(client, user):
    login_as(client, user)
    return client


def test_every_store_page_shows_the_store_clock_in_test_mode(owner_client, store):
    for path in ("", "/subscriptions", "/payments"):
        page = owner_client.get(f"/dashboard/stores/{store.id}{path}").get_data(as_text=True)
        assert "TEST MODE" in page and "store clock:" in page and 'id="test-clock-form"' in page
        assert 'name="days"' in page and "+7 days" in page and "+30 days" in page


def test_the_button_moves_the_clock_charges_a_trial_end_and_goes_back(owner_client, db, store):
    subscription = subscribe(db, store, trial_days=14)
    before = clock.now(db, store.id)
    back = f"/dashboard/stores/{store.id}/subscriptions/{subscription.id}"

    answer = post_form(owner_client, advance_url(store), {"days": "15", "next": back}, page=back)

    assert answer.status_code == 303 and answer.headers["Location"].endswith(back)
    assert (clock.now(db, store.id) - before).days == 15
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert db.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.subscription_id == subscription.id)) == 1
    page = owner_client.get(back).get_data(as_text=True)
    assert "Clock moved to" in page and "; 1 renewal charged." in page and "The trial ended" in page


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", "/dashboard/stores/999999/payments", ""])
def test_it_goes_back_only_to_this_stores_pages(owner_client, store, target):
    answer = post_form(owner_client, advance_url(store), {"days": "1", "next": target}, page=f"/dashboard/stores/{store.id}")

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/dashboard/stores/{store.id}/subscriptions")


@pytest.mark.parametrize("days", ["0", "731", "-3", "1.5", "soon", ""])
def test_bad_days_are_a_422_beside_the_field_and_the_clock_stays(owner_client, db, store, days):
    before = clock.offset(db, store.id)

    answer = post_form(owner_client, advance_url(store), {"days": days}, page=f"/dashboard/stores/{store.id}")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'class="field-error"' in page and 'aria-invalid="true"' in page
    assert clock.offset(db, store.id) == before


def test_viewers_see_the_clock_but_cannot_move_it(client, db, store):
    viewer = make_user(db, email="viewer@example.com", name="Vic Viewer")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)

    page = client.get(f"/dashboard/stores/{store.id}/subscriptions").get_data(as_text=True)

    assert "TEST MODE" in page and 'id="test-clock-form"' not in page
    assert post_form(client, advance_url(store), {"days": "1"}, page=f"/dashboard/stores/{store.id}").status_code == 403
    assert clock.offset(db, store.id).total_seconds() == 0


def test_no_bar_and_no_button_outside_test_mode(app, owner_client, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "stripe")

    page = owner_client.get(f"/dashboard/stores/{store.id}/subscriptions").get_data(as_text=True)

    assert "TEST MODE" not in page and "test-clock" not in page
    assert post_form(owner_client, advance_url(store), {"days": "1"}, page=f"/dashboard/stores/{store.id}").status_code == 404
    assert clock.offset(db, store.id).total_seconds() == 0
