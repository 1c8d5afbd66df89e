"""JSON API (SPEC §6.6): subscriptions listed, shown with their payments, cancelled, paused and
resumed; every move the action table has no row for is a 409 that changes nothing; viewers read
only, other stores 404; the widget's and the merchant's session views name the subscription."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.stores.models import Role
from checkie.subscriptions import actions, renewals, services
from checkie.subscriptions.actions import Action
from checkie.subscriptions.models import (
    Subscription,
    SubscriptionEvent,
    SubscriptionRenewal,
    SubscriptionStatus,
)
from checkie.webhooks.models import WebhookEvent
from tests.api.subscribing import DECLINES_RENEWALS, subscribe
from tests.factories import add_member, make_page, make_store, make_user, make_webhook_endpoint
from tests.http import access_token_for, bearer
from tests.widget import open_checkout, patch_session, pay, status

SUBSCRIPTION_KEYS = {"id", "status", "customerId", "pageId", "amount", "currency", "interval", "intervalCount",
                     "currentPeriodStart", "currentPeriodEnd", "cancelAtPeriodEnd", "createdAt"}


def _url(store, subscription=None, action: str = "") -> str:
    url = f"/api/stores/{store.id}/subscriptions"
    if subscription is not None:
        url += f"/{subscription.id}"
    return f"{url}/{action}" if action else url


@pytest.fixture
def viewer_auth(app, db, store):
    viewer = make_user(db, email="viewer@example.com")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    return bearer(access_token_for(app, viewer))


# ---------------------------------------------------------------- reading


def test_a_subscription_is_answered_in_the_spec_shape(client, db, store, auth):
    trialing = subscribe(db, store, trial_days=14)

    shown = client.get(_url(store, trialing), headers=auth)

    assert shown.status_code == 200
    assert set(shown.json) == SUBSCRIPTION_KEYS | {"trialEnd", "payments"}
    assert shown.json["status"] == "trialing" and shown.json["payments"] == []
    assert (shown.json["amount"], shown.json["currency"], shown.json["interval"], shown.json["intervalCount"]) == (
        900, "USD", "month", 1)
    assert shown.json["trialEnd"] == shown.json["currentPeriodEnd"]
    assert (shown.json["customerId"], shown.json["pageId"]) == (trialing.customer_id, trialing.page_id)


def test_the_detail_has_its_payments_as_the_payments_api_shows_them(client, db, store, auth):
    active = subscribe(db, store)
    renewals.advance_clock(db, store, days=32)

    shown = client.get(_url(store, active), headers=auth).json

    assert len(shown["payments"]) == 2
    assert shown["payments"][0]["id"] > shown["payments"][1]["id"]  # newest first
    for payment in shown["payments"]:
        assert payment == client.get(f"/api/stores/{store.id}/payments/{payment['id']}", headers=auth).json
    assert "payments" not in client.get(_url(store), headers=auth).json["data"][0]


def test_the_list_filters_by_status_and_email_and_pages_with_a_cursor(client, db, store, auth):
    first = subscribe(db, store, email="ann@example.com")
    second = subscribe(db, store, trial_days=7, email="bob@example.com")
    third = subscribe(db, store, email="bobby@example.org")

    everything = client.get(_url(store), headers=auth).json
    trialing = client.get(_url(store) + "?status=trialing", headers=auth).json
    bobs = client.get(_url(store) + "?email=BOB", headers=auth).json
    page_one = client.get(_url(store) + "?limit=2", headers=auth).json
    page_two = client.get(_url(store) + f"?limit=2&cursor={page_one['nextCursor']}", headers=auth).json

    assert [s["id"] for s in everything["data"]] == [third.id, second.id, first.id]
    assert everything["nextCursor"] is None
    assert [s["id"] for s in trialing["data"]] == [second.id]
    assert [s["id"] for s in bobs["data"]] == [third.id, second.id]
    assert [s["id"] for s in page_one["data"]] == [third.id, second.id]
    assert [s["id"] for s in page_two["data"]] == [first.id] and page_two["nextCursor"] is None


@pytest.mark.parametrize("query", ["status=sleeping", "limit=0", "limit=101", "cursor=!!", "cursor=AAAAAAAAAAAAAAAAAAA"])
def test_a_bad_list_query_is_a_422(client, store, auth, query):
    answer = client.get(_url(store) + f"?{query}", headers=auth)

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_error"


def test_another_stores_subscription_is_a_404(app, client, db, store, auth):
    stranger = make_store(db, owner=make_user(db, email="eve@example.com"), name="Eve's", slug="eves")
    theirs = subscribe(db, stranger)

    assert client.get(_url(store, theirs), headers=auth).status_code == 404
    assert client.post(_url(store, theirs, "pause"), headers=auth).status_code == 404
    assert client.get(_url(stranger, theirs), headers=auth).status_code == 404
    assert db.get(Subscription, theirs.id).status is SubscriptionStatus.ACTIVE


# ---------------------------------------------------------------- actions


def test_cancel_at_period_end_then_resume_keeps_it(client, db, store, auth):
    active = subscribe(db, store)

    ending = client.post(_url(store, active, "cancel"), json={"atPeriodEnd": True, "reason": "other"}, headers=auth)
    kept = client.post(_url(store, active, "resume"), headers=auth)

    assert ending.status_code == 200
    assert (ending.json["status"], ending.json["cancelAtPeriodEnd"], ending.json["cancellationReason"]) == (
        "active", True, "other")
    assert "canceledAt" not in ending.json
    assert kept.status_code == 200
    assert (kept.json["status"], kept.json["cancelAtPeriodEnd"]) == ("active", False)
    assert "cancellationReason" not in kept.json


def test_a_subscription_set_to_end_ends_when_the_clock_passes_its_period(client, db, store, auth):
    active = subscribe(db, store)
    client.post(_url(store, active, "cancel"), json={"atPeriodEnd": True}, headers=auth)

    renewals.advance_clock(db, store, days=40)

    shown = client.get(_url(store, active), headers=auth).json
    assert (shown["status"], shown["cancellationReason"], len(shown["payments"])) == (
        "canceled", "requested_by_merchant", 1)


def test_cancel_now_with_a_reason(client, db, store, auth):
    active = subscribe(db, store)

    canceled = client.post(_url(store, active, "cancel"), json={"atPeriodEnd": False, "reason": "duplicate"}, headers=auth)

    assert canceled.status_code == 200
    assert (canceled.json["status"], canceled.json["cancellationReason"], canceled.json["cancelAtPeriodEnd"]) == (
        "canceled", "duplicate", False)
    assert "canceledAt" in canceled.json
    open_renewals = db.scalar(sa.select(sa.func.count()).select_from(SubscriptionRenewal)
                              .where(SubscriptionRenewal.subscription_id == active.id,
                                     SubscriptionRenewal.status == "scheduled"))
    assert open_renewals == 0


def test_pause_then_resume_and_their_events_carry_the_api_view(client, db, store, auth):
    make_webhook_endpoint(db, store, events=("subscription.paused", "subscription.resumed"))
    active = subscribe(db, store)

    paused = client.post(_url(store, active, "pause"), headers=auth)
    resumed = client.post(_url(store, active, "resume"), headers=auth)

    assert paused.status_code == 200 and paused.json["status"] == "paused" and "pausedAt" in paused.json
    assert resumed.status_code == 200 and resumed.json["status"] == "active" and "pausedAt" not in resumed.json
    events = {event.type: event.data for event in db.scalars(sa.select(WebhookEvent).where(WebhookEvent.store_id == store.id))}
    assert events["subscription.paused"] == paused.json
    assert events["subscription.resumed"] == resumed.json


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"atPeriodEnd"}),
    ({"atPeriodEnd": "yes"}, {"atPeriodEnd"}),
    ({"atPeriodEnd": 1}, {"atPeriodEnd"}),
    ({"atPeriodEnd": None}, {"atPeriodEnd"}),
    ({"atPeriodEnd": True, "reason": "payment_failed"}, {"reason"}),
    ({"atPeriodEnd": True, "reason": 7}, {"reason"}),
    ({"atPeriodEnd": True, "extra": 1}, {"extra"}),
])
def test_a_bad_cancel_body_is_a_422_naming_the_field(client, db, store, auth, body, fields):
    active = subscribe(db, store)

    answer = client.post(_url(store, active, "cancel"), json=body, headers=auth)

    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == fields
    db.expire_all()
    assert (active.status, active.cancel_at_period_end) == (SubscriptionStatus.ACTIVE, False)


def test_a_viewer_reads_but_may_not_act(client, db, store, viewer_auth):
    active = subscribe(db, store)

    assert client.get(_url(store), headers=viewer_auth).status_code == 200
    assert client.get(_url(store, active), headers=viewer_auth).status_code == 200
    for action, body in (("cancel", {"atPeriodEnd": False}), ("pause", None), ("resume", None)):
        answer = client.post(_url(store, active, action), json=body, headers=viewer_auth)
        assert answer.status_code == 403, action
    db.expire_all()
    assert active.status is SubscriptionStatus.ACTIVE


def test_an_api_key_acts_on_its_own_store(client, db, store, user):
    from checkie.stores.api_keys import create_api_key

    _, raw = create_api_key(db, store, name="Ops", created_by=user)
    active = subscribe(db, store)

    answer = client.post(_url(store, active, "pause"), headers=bearer(raw))

    assert answer.status_code == 200 and answer.json["status"] == "paused"


# ---------------------------------------------------------------- every illegal move


def _in_state(db, store, state: str) -> Subscription:
    """A subscription in `state`, reached through the services and the clock as in real life."""
    if state == "trialing":
        return subscribe(db, store, trial_days=14)
    if state == "trialing_ending":
        return _committed(db, services.cancel(db, subscribe(db, store, trial_days=14), at_period_end=True))
    if state == "active_ending":
        return _committed(db, services.cancel(db, subscribe(db, store), at_period_end=True))
    if state == "paused":
        return _committed(db, services.pause(db, subscribe(db, store)))
    if state == "canceled":
        return _committed(db, services.cancel(db, subscribe(db, store), at_period_end=False))
    if state == "past_due":
        subscription = subscribe(db, store, card=DECLINES_RENEWALS)
        renewals.advance_clock(db, store, days=32)
        db.refresh(subscription)
        assert subscription.status is SubscriptionStatus.PAST_DUE
        return subscription
    subscription = subscribe(db, store)
    if state == "incomplete":
        # No flow of Checkie's starts one (SPEC §3 keeps the status for a provider's open first
        # charge), so it is the one status set by hand.
        subscription.status = SubscriptionStatus.INCOMPLETE
        db.commit()
    return subscription


def _committed(db, subscription: Subscription) -> Subscription:
    db.commit()
    return subscription


STATES = ["trialing", "trialing_ending", "active", "active_ending", "past_due", "paused", "canceled", "incomplete"]
_FLAGS = {"trialing_ending": ("trialing", True), "active_ending": ("active", True)}


def _illegal_moves() -> list[tuple[str, Action]]:
    """Every (state, action) the table has no row for: each status, with and without a
    cancellation at period end where a status can carry one."""
    moves = []
    for state in STATES:
        status, ending = _FLAGS.get(state, (state, False))
        probe = Subscription(status=SubscriptionStatus(status), cancel_at_period_end=ending)
        moves += [(state, action) for action in Action if actions.move_for(probe, action) is None]
    return moves


#: The API call each action is: `…/resume` both takes back a cancellation at period end and
#: resumes a paused subscription (SPEC §6.6).
API_CALLS = {
    Action.CANCEL_NOW: ("cancel", {"atPeriodEnd": False}),
    Action.CANCEL_AT_PERIOD_END: ("cancel", {"atPeriodEnd": True}),
    Action.UNCANCEL: ("resume", None),
    Action.PAUSE: ("pause", None),
    Action.RESUME: ("resume", None),
}


def _everything_about(db, subscription: Subscription) -> tuple:
    db.expire_all()
    row = db.get(Subscription, subscription.id)
    columns = tuple(getattr(row, column.key) for column in Subscription.__table__.columns)
    renewal_rows = db.execute(sa.select(SubscriptionRenewal.period_start, SubscriptionRenewal.status, SubscriptionRenewal.due_at)
                              .where(SubscriptionRenewal.subscription_id == subscription.id)
                              .order_by(SubscriptionRenewal.id)).all()
    timeline = db.scalar(sa.select(sa.func.count()).select_from(SubscriptionEvent)
                         .where(SubscriptionEvent.subscription_id == subscription.id))
    events = db.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
    return columns, renewal_rows, timeline, events


def test_the_walk_covers_every_status_and_action():
    covered = {state for state, _ in _illegal_moves()}
    assert {status.value for status in SubscriptionStatus} <= {_FLAGS.get(s, (s,))[0] for s in STATES}
    assert covered == set(STATES)


@pytest.mark.parametrize(("state", "action"), _illegal_moves(), ids=lambda value: getattr(value, "value", value))
def test_every_illegal_move_is_a_409_that_changes_nothing(client, db, store, auth, state, action):
    subscription = _in_state(db, store, state)
    before = _everything_about(db, subscription)
    allowed = set(actions.allowed(subscription))
    endpoint, body = API_CALLS[action]
    if endpoint == "resume" and allowed & {Action.UNCANCEL, Action.RESUME}:
        # `…/resume` means the other of its two moves here, which is allowed: the service that
        # the dashboard names each move through refuses this one.
        with pytest.raises(actions.IllegalAction):
            services.perform(db, subscription, action)
        db.rollback()
    else:
        answer = client.post(_url(store, subscription, endpoint), json=body, headers=auth)
        assert answer.status_code == 409, answer.json
        assert answer.json["error"]["code"] == "invalid_subscription_action"
    assert _everything_about(db, subscription) == before


# ---------------------------------------------------------------- checkout sessions


def fill_in(client, session_id: str) -> dict:
    """The shopper's email and name: all these pages (no custom fields) need before paying."""
    response = patch_session(client, session_id, {"email": "shopper@example.com", "name": "Sam Shopper"})
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def plan(db, store):
    page = make_page(db, store, title="Club", slug="club", amount=900, pricing_type="subscription", interval="month",
                     trial_days=14, publish=True)
    db.commit()
    return page


@pytest.fixture
def monthly(db, store):
    page = make_page(db, store, title="Monthly", slug="monthly", amount=900, pricing_type="subscription",
                     interval="month", publish=True)
    db.commit()
    return page


@pytest.mark.parametrize(("page_fixture", "due_now", "status_now"), [("plan", 0, "trialing"), ("monthly", 900, "active")])
def test_a_widget_checkout_of_a_subscription_page_names_its_subscription(
        request, client, db, store, auth, page_fixture, due_now, status_now):
    page = request.getfixturevalue(page_fixture)
    opened = open_checkout(client, store, page)
    session_id = opened["sessionId"]
    assert opened["amount"] == {"subtotal": 900, "discount": 0, "total": 900, "currency": "USD", "dueNow": due_now}
    assert opened["page"]["pricing"]["trialDays"] == (14 if due_now == 0 else 0)
    filled = fill_in(client, session_id)
    assert filled["subscriptionId"] is None and filled["amount"]["dueNow"] == due_now

    paid = pay(client, session_id)

    assert paid.status_code == 200 and paid.json == {"sessionId": session_id, "status": "completed"}
    subscription = services.subscription_of_checkout(db, session_id)
    assert subscription is not None and subscription.status.value == status_now
    assert status(client, session_id)["subscriptionId"] == subscription.id
    merchant_view = client.get(f"/api/stores/{store.id}/checkout-sessions/{session_id}", headers=auth).json
    assert merchant_view["subscriptionId"] == subscription.id
    assert merchant_view["amount"]["dueNow"] == due_now
    shown = client.get(_url(store, subscription), headers=auth).json
    assert len(shown["payments"]) == (0 if due_now == 0 else 1)


def test_a_one_time_checkout_names_no_subscription(client, db, store, auth):
    page = make_page(db, store, title="Mug", slug="mug", amount=1200, publish=True)
    db.commit()
    session_id = open_checkout(client, store, page)["sessionId"]
    assert fill_in(client, session_id)["amount"]["dueNow"] == 1200

    assert pay(client, session_id).json["status"] == "completed"

    assert status(client, session_id)["subscriptionId"] is None
    assert client.get(f"/api/stores/{store.id}/checkout-sessions/{session_id}", headers=auth).json["subscriptionId"] is None


# ---------------------------------------------------------------- the document


def test_the_document_describes_the_subscription_operations(client):
    document = client.get("/api/openapi.json").json
    base = "/api/stores/{store_id}/subscriptions"
    expected = {
        (base, "get"): {"200", "401", "404", "422"},
        (base + "/{subscription_id}", "get"): {"200", "401", "404"},
        (base + "/{subscription_id}/cancel", "post"): {"200", "401", "403", "404", "409", "422"},
        (base + "/{subscription_id}/pause", "post"): {"200", "401", "403", "404", "409"},
        (base + "/{subscription_id}/resume", "post"): {"200", "401", "403", "404", "409"},
        ("/api/stores/{store_id}/test-clock", "get"): {"200", "401", "404"},
        ("/api/stores/{store_id}/test-clock/advance", "post"): {"200", "401", "403", "404", "409", "422"},
    }
    for (path, method), statuses in expected.items():
        operation = document["paths"][path][method]
        assert set(operation["responses"]) - {"default"} == statuses, (path, method)
        assert operation["security"] == [{"bearerAuth": []}]
    schemas = document["components"]["schemas"]
    assert set(schemas["Subscription"]["properties"]) == SUBSCRIPTION_KEYS | {
        "trialEnd", "canceledAt", "cancellationReason", "pausedAt"}
    assert set(schemas["SubscriptionDetail"]["properties"]) == set(schemas["Subscription"]["properties"]) | {"payments"}
    assert schemas["CancelBody"]["required"] == ["atPeriodEnd"]
    assert "dueNow" in schemas["SessionAmount"]["properties"]
    assert "subscriptionId" in schemas["CheckoutSessionDetail"]["properties"]
