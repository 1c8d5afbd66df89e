"""JSON API (SPEC §5, §6.6): the store's test clock. Advancing it settles everything that falls
due before answering; only in test mode, only owners, admins and API keys, 1–730 days."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from checkie.database import utcnow
from checkie.stores.models import Role
from checkie.stores.payment_settings import update_payment_settings
from checkie.subscriptions import clock
from tests.api.subscribing import DECLINES_RENEWALS, subscribe
from tests.factories import add_member, make_store, make_user
from tests.http import access_token_for, bearer


def _advance(client, store, auth, body):
    return client.post(f"/api/stores/{store.id}/test-clock/advance", json=body, headers=auth)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_advancing_answers_the_new_present_and_the_renewals_charged(client, db, store, auth):
    subscribe(db, store)
    subscribe(db, store, interval="week")
    before = utcnow()

    answer = _advance(client, store, auth, {"days": 40})

    assert answer.status_code == 200 and set(answer.json) == {"now", "renewals"}
    assert before + timedelta(days=40) <= _moment(answer.json["now"]) <= utcnow() + timedelta(days=40)
    assert answer.json["renewals"] == 1 + 5  # the monthly once; the weekly on days 7, 14, 21, 28, 35
    shown = client.get(f"/api/stores/{store.id}/test-clock", headers=auth)
    assert shown.status_code == 200 and _moment(shown.json["now"]) >= _moment(answer.json["now"])


def test_advances_add_up(client, db, store, auth):
    _advance(client, store, auth, {"days": 3})
    _advance(client, store, auth, {"days": 4})

    assert clock.offset(db, store.id) == timedelta(days=7)


def test_a_trial_becomes_active_on_the_clock_through_the_api(client, db, store, auth):
    trialing = subscribe(db, store, trial_days=14)
    url = f"/api/stores/{store.id}/subscriptions/{trialing.id}"

    early = _advance(client, store, auth, {"days": 13})
    still = client.get(url, headers=auth).json
    ended = _advance(client, store, auth, {"days": 2})
    active = client.get(url, headers=auth).json

    assert early.json["renewals"] == 0 and (still["status"], still["payments"]) == ("trialing", [])
    assert ended.json["renewals"] == 1
    assert active["status"] == "active" and len(active["payments"]) == 1
    assert active["payments"][0]["amount"] == 900
    assert active["currentPeriodStart"] == still["trialEnd"]


def test_declined_renewals_are_past_due_then_canceled_on_the_clock(client, db, store, auth):
    declining = subscribe(db, store, card=DECLINES_RENEWALS)
    url = f"/api/stores/{store.id}/subscriptions/{declining.id}"

    assert _advance(client, store, auth, {"days": 31}).json["renewals"] == 0
    past_due = client.get(url, headers=auth).json
    _advance(client, store, auth, {"days": 8})
    canceled = client.get(url, headers=auth).json

    assert past_due["status"] == "past_due"
    assert (canceled["status"], canceled["cancellationReason"]) == ("canceled", "payment_failed")


@pytest.mark.parametrize("body", [
    {}, {"days": 0}, {"days": 731}, {"days": -1}, {"days": "3"}, {"days": 1.5}, {"days": True}, {"days": None},
    {"days": 2**63}, {"days": 3, "hours": 1},
])
def test_a_bad_advance_is_a_422_and_moves_nothing(client, db, store, auth, body):
    answer = _advance(client, store, auth, body)

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_error" and answer.json["error"]["fields"]
    assert clock.offset(db, store.id) == timedelta(0)


def test_the_longest_advance_is_two_years(client, db, store, auth):
    assert _advance(client, store, auth, {"days": 730}).status_code == 200
    assert clock.offset(db, store.id) == timedelta(days=730)


def test_a_viewer_reads_the_clock_but_may_not_move_it(app, client, db, store):
    viewer = make_user(db, email="viewer@example.com")
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    headers = bearer(access_token_for(app, viewer))

    assert client.get(f"/api/stores/{store.id}/test-clock", headers=headers).status_code == 200
    assert _advance(client, store, headers, {"days": 1}).status_code == 403
    assert clock.offset(db, store.id) == timedelta(0)


def test_another_stores_clock_is_a_404(client, db, store, auth):
    stranger = make_store(db, owner=make_user(db, email="eve@example.com"), name="Eve's", slug="eves")
    db.commit()

    assert client.get(f"/api/stores/{stranger.id}/test-clock", headers=auth).status_code == 404
    assert _advance(client, stranger, auth, {"days": 1}).status_code == 404
    assert clock.offset(db, stranger.id) == timedelta(0)


def test_outside_test_mode_the_clock_does_not_move(client, db, store, auth):
    """A store on Stripe with live keys takes real money: its clock is not Checkie's to move."""
    update_payment_settings(db, store, provider="stripe", publishable_key="pk_live_checkie0001",
                            secret_key="sk_live_checkie0001", webhook_secret="whsec_checkie0001")
    db.commit()

    answer = _advance(client, store, auth, {"days": 1})

    assert answer.status_code == 409 and answer.json["error"]["code"] == "test_mode_only"
    assert clock.offset(db, store.id) == timedelta(0)
