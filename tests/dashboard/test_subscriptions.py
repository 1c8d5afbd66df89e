"""Dashboard: subscriptions — the list (status filter, email search, keyset pages, htmx), one
subscription with its payments and timeline, and each action of the table through its button:
an illegal move is a 409 that changes nothing; viewers see no buttons and may not post; every
post needs its CSRF token."""
from __future__ import annotations

import pytest

from checkie.stores.models import Role
from checkie.subscriptions import renewals, services
from checkie.subscriptions.models import SubscriptionStatus
from tests.factories import add_member, make_store, make_user
from tests.http import HX, login_as, post_form
from tests.subscription_factories import make_subscription, subscribe


def url(store, rest: str = "") -> str:
    return f"/dashboard/stores/{store.id}/subscriptions{rest}"


@pytest.fixture
def owner_client(client, user):
    login_as(client, user)
    return client


@pytest.fixture
def viewer_client(client, db, store):
    viewer = make_user(db, email="viewer@example.com", name="Vic Viewer")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    return client


def act(client, store, subscription, action: str, data: dict | None = None):
    return post_form(client, url(store, f"/{subscription.id}/{action}"), data, page=url(store, f"/{subscription.id}"))


def test_the_nav_links_the_list_and_an_empty_store_says_what_starts_one(viewer_client, store):
    page = viewer_client.get(url(store)).get_data(as_text=True)

    assert f'href="{url(store)}" aria-current="page"' in page
    assert "No subscriptions yet" in page


def test_the_list_filters_by_status_and_email(viewer_client, db, store):
    make_subscription(db, store, email="ann@example.com", amount=1111)
    make_subscription(db, store, email="bob@example.com", amount=2222, status="trialing")
    make_subscription(db, store, email="cy@example.com", amount=3333, status="active", cancel_at_period_end=True)
    other = make_store(db, name="Other")
    make_subscription(db, other, email="eve@example.com", amount=4444)
    db.commit()

    def shown(**args):
        body = viewer_client.get(url(store), query_string=args).get_data(as_text=True)
        return {amount for amount in ("$11.11", "$22.22", "$33.33", "$44.44") if amount in body}

    everything = viewer_client.get(url(store)).get_data(as_text=True)
    assert "ann@example.com" in everything and "$11.11 every month" in everything and "cancels " in everything
    assert shown() == {"$11.11", "$22.22", "$33.33"}
    assert shown(status="trialing") == {"$22.22"}
    assert shown(q="ANN@") == {"$11.11"}
    assert shown(q="nobody") == set()
    assert shown(status="nonsense") == {"$11.11", "$22.22", "$33.33"}  # ignored, not a 500
    assert "No subscriptions match" in viewer_client.get(url(store), query_string={"q": "nobody"}).get_data(as_text=True)


def test_keyset_pages_carry_the_filters(viewer_client, db, store, monkeypatch):
    from checkie.dashboard import subscriptions as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    made = [make_subscription(db, store, email="ann@example.com", amount=1000 + n) for n in range(3)]
    make_subscription(db, store, email="bob@example.com", amount=9999)
    db.commit()

    first = viewer_client.get(url(store), query_string={"q": "ann"}).get_data(as_text=True)
    assert "$10.02" in first and "$10.01" in first and "$10.00" not in first
    assert f"before={made[1].id}" in first and "q=ann" in first and "Older" in first
    second = viewer_client.get(url(store), query_string={"q": "ann", "before": made[1].id}).get_data(as_text=True)
    assert "$10.00" in second and "$10.01" not in second and "$99.99" not in second and 'rel="prev"' in second


def test_htmx_gets_only_the_table_and_the_form_works_without_javascript(viewer_client, db, store):
    make_subscription(db, store, amount=1234)
    db.commit()

    response = viewer_client.get(url(store), query_string={"status": "active"}, headers=HX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="subscription-list"' in body and "$12.34" in body
    page = viewer_client.get(url(store)).get_data(as_text=True)
    assert f'method="get" action="{url(store)}"' in page and 'hx-target="#subscription-list"' in page


def test_the_detail_shows_the_payments_and_the_timeline_in_plain_words(owner_client, db, store):
    subscription = subscribe(db, store, trial_days=14, title="Coffee club")
    renewals.advance_clock(db, store, days=15)

    page = owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)

    [payment] = services.payments_of(db, subscription)
    assert "Coffee club" in page and "$9.00 every month" in page and subscription.customer.email in page
    assert f"/dashboard/stores/{store.id}/payments/{payment.id}" in page
    assert "Started with a free trial until" in page and "The trial ended and the first payment was taken" in page
    assert "Trial end" in page and "Active" in page


def test_a_failed_renewal_shows_when_it_is_tried_again(owner_client, db, store):
    subscription = subscribe(db, store, card="pm_card_chargeCustomerFail")
    renewals.advance_clock(db, store, days=32)

    page = owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)

    assert "Past due" in page and "A renewal payment failed" in page and "it is tried again on" in page


def test_cancel_at_period_end_then_keep_it(owner_client, db, store):
    subscription = subscribe(db, store)
    shown = owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)
    assert "Cancel at period end" in shown and "Cancel now" in shown and "Pause" in shown and "data-confirm" in shown

    answer = act(owner_client, store, subscription, "cancel_at_period_end", {"reason": "requested_by_customer"})

    assert answer.status_code == 303 and answer.headers["Location"].endswith(url(store, f"/{subscription.id}"))
    db.refresh(subscription)
    assert subscription.cancel_at_period_end and subscription.cancellation_reason.value == "requested_by_customer"
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "The subscription will end on" in page and "Set to cancel at the end of its period" in page
    assert "Keep it" in page and "Pause</button>" not in page

    kept = act(owner_client, store, subscription, "uncancel")

    assert kept.status_code == 303
    db.refresh(subscription)
    assert not subscription.cancel_at_period_end
    assert "No longer set to cancel" in owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)


def test_cancel_now_with_a_reason(owner_client, db, store):
    subscription = subscribe(db, store)

    answer = act(owner_client, store, subscription, "cancel_now", {"reason": "fraudulent"})

    assert answer.status_code == 303
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.CANCELED and subscription.cancellation_reason.value == "fraudulent"
    page = owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)
    assert "The subscription was cancelled" in page and "Cancelled (fraudulent)." in page
    assert 'id="subscription-actions"' not in page  # nothing is allowed any more


def test_a_reason_that_is_not_offered_is_a_422_beside_the_field(owner_client, db, store):
    subscription = subscribe(db, store)

    answer = act(owner_client, store, subscription, "cancel_now", {"reason": "payment_failed"})

    assert answer.status_code == 422 and "Choose one of:" in answer.get_data(as_text=True)
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE


def test_pause_then_resume(owner_client, db, store):
    subscription = subscribe(db, store)

    assert act(owner_client, store, subscription, "pause").status_code == 303
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.PAUSED
    assert "Resume</button>" in owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)

    assert act(owner_client, store, subscription, "resume").status_code == 303
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE
    timeline = owner_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)
    assert "Paused: nothing is charged until it resumes." in timeline and "Resumed; the period runs until" in timeline


def test_an_illegal_move_is_a_409_with_the_reason_and_changes_nothing(owner_client, db, store):
    subscription = subscribe(db, store, trial_days=7)

    answer = act(owner_client, store, subscription, "pause")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "A subscription that is trialing cannot be paused." in page and 'id="subscription-refusal"' in page
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.TRIALING and subscription.paused_at is None


def test_an_unknown_action_or_another_stores_subscription_is_a_404(owner_client, db, store):
    subscription = subscribe(db, store)
    other = make_store(db, name="Other")
    theirs = make_subscription(db, other)
    db.commit()

    assert act(owner_client, store, subscription, "refund").status_code == 404
    assert owner_client.get(url(store, f"/{theirs.id}")).status_code == 404
    assert act(owner_client, store, theirs, "cancel_now").status_code == 404


def test_viewers_see_no_buttons_and_may_not_act(viewer_client, db, store):
    subscription = subscribe(db, store)

    page = viewer_client.get(url(store, f"/{subscription.id}")).get_data(as_text=True)

    assert page and 'id="subscription-actions"' not in page and "Cancel now" not in page
    assert act(viewer_client, store, subscription, "cancel_now").status_code == 403
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE


def test_an_action_without_its_csrf_token_changes_nothing(app, owner_client, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", True)
    subscription = subscribe(db, store)

    answer = owner_client.post(url(store, f"/{subscription.id}/cancel_now"), data={"reason": "other"})

    assert answer.status_code == 303
    db.refresh(subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE
