"""The test provider's 3DS page: found only through its attempt's unguessable token, shown only
while that attempt awaits action; Complete and Fail emit the matching signed event through the
webhook intake, then send the shopper back to that attempt's own session."""
from __future__ import annotations

import pytest

from checkie.payments.models import AttemptStatus, ProviderEvent, TestProviderEvent
from tests.factories import make_attempt, make_checkout, make_page
from tests.http import csrf_token_from
from tests.psp import record_outcomes


@pytest.fixture
def outcomes(monkeypatch):
    return record_outcomes(monkeypatch)


def shopper_attempt(db, store, *, amount: int = 2500, status: AttemptStatus = AttemptStatus.REQUIRES_ACTION, **options):
    """A test-provider attempt (waiting for the shopper's 3DS step unless `status` says otherwise)
    on a session of its own, for a page of `amount` minor units."""
    checkout = make_checkout(db, make_page(db, store, amount=amount, publish=True))
    return make_attempt(db, checkout, status=status, payment_method="pm_card_threeDSecureRequired", **options)


@pytest.fixture
def attempt(db, store):
    attempt = shopper_attempt(db, store, amount=12345, intent_id="pi_test_3ds")
    db.commit()
    return attempt


def url(attempt) -> str:
    return f"/test-provider/3ds/{attempt.action_token}"


def submit(client, attempt, outcome):
    token = csrf_token_from(client.get(url(attempt)).get_data(as_text=True))
    return client.post(url(attempt), data={"csrf_token": token, "outcome": outcome})


def test_the_page_is_a_labelled_test_mode_authentication(client, attempt):
    response = client.get(url(attempt))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "TEST MODE" in html
    assert "$123.45" in html and "Acme Goods" in html
    assert 'name="outcome" value="complete"' in html and 'name="outcome" value="fail"' in html
    assert "Complete</button>" in html and "Fail</button>" in html


def test_complete_emits_succeeded_and_returns_to_the_session(client, db, attempt, outcomes):
    response = submit(client, attempt, "complete")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/c/s/{attempt.session_id}"
    event = db.query(ProviderEvent).one()
    assert event.type == "payment_intent.succeeded"
    assert outcomes.calls == [
        ("payment_succeeded", {"provider": "test", "intent_id": "pi_test_3ds", "amount": 12345, "currency": "usd",
                               "metadata": {"checkout_session_id": attempt.session_id, "store_id": str(attempt.checkout.store_id)}})
    ]


def test_fail_emits_payment_failed_with_authentication_failed(client, db, attempt, outcomes):
    response = submit(client, attempt, "fail")
    assert response.status_code == 303
    assert db.query(ProviderEvent).one().type == "payment_intent.payment_failed"
    [(name, call)] = outcomes.calls
    assert name == "payment_failed"
    assert (call["intent_id"], call["code"]) == ("pi_test_3ds", "authentication_failed")


def test_an_unknown_outcome_is_refused(client, db, attempt, outcomes):
    response = submit(client, attempt, "maybe")
    assert response.status_code == 422
    assert "TEST MODE" in response.get_data(as_text=True)
    assert outcomes.calls == [] and db.query(ProviderEvent).count() == 0


def test_a_post_without_csrf_token_is_refused(client, db, attempt, outcomes):
    assert client.post(url(attempt), data={"outcome": "complete"}).status_code == 303  # sent back (tests/test_csrf.py)
    assert outcomes.calls == []


@pytest.mark.parametrize("status", [AttemptStatus.PROCESSING, AttemptStatus.SUCCEEDED, AttemptStatus.FAILED])
def test_attempts_not_awaiting_action_are_404(client, db, store, status):
    attempt = shopper_attempt(db, store, status=status)
    db.commit()
    assert client.get(url(attempt)).status_code == 404
    assert client.post(url(attempt), data={"outcome": "complete"}).status_code in (303, 404)


def test_other_providers_attempts_and_unknown_ids_are_404(client, db, store):
    attempt = shopper_attempt(db, store, provider="stripe", intent_id="pi_live")
    db.commit()
    assert client.get(url(attempt)).status_code == 404
    assert client.get("/test-provider/3ds/999999").status_code == 404


def test_sequential_attempt_ids_find_nothing(client, db, store, outcomes):
    """An attempt's id is not its address: guessing ids shows no store, no amount, no session."""
    attempts = [shopper_attempt(db, store, intent_id=f"pi_test_{n}") for n in range(5)]
    db.commit()
    for guess in range(0, max(a.id for a in attempts) + 3):
        page = client.get(f"/test-provider/3ds/{guess}")
        assert page.status_code == 404
        assert "Acme Goods" not in page.get_data(as_text=True)
        assert client.post(f"/test-provider/3ds/{guess}", data={"outcome": "fail"}).status_code in (303, 404)
    assert outcomes.calls == [] and db.query(ProviderEvent).count() == 0


def test_a_token_acts_only_on_its_own_checkout(client, db, store, outcomes):
    mine = shopper_attempt(db, store, intent_id="pi_test_mine")
    theirs = shopper_attempt(db, store, intent_id="pi_test_theirs")
    db.commit()
    response = submit(client, theirs, "fail")
    assert response.headers["Location"] == f"/c/s/{theirs.session_id}"  # never to mine
    assert [call["intent_id"] for _, call in outcomes.calls] == ["pi_test_theirs"]
    assert client.get(url(mine)).status_code == 200  # mine still waits for its shopper


@pytest.mark.parametrize("token", ["", "x" * 65, "not a token", "%00", "..%2F1"])
def test_malformed_tokens_are_404(client, attempt, token):
    assert client.get(f"/test-provider/3ds/{token}").status_code == 404


def test_the_page_does_not_exist_where_the_test_provider_is_off(app, client, db, attempt, outcomes, monkeypatch):
    """Production on another provider: a 404 for everyone, before CSRF could tell the route exists."""
    token = csrf_token_from(client.get(url(attempt)).get_data(as_text=True))
    monkeypatch.setitem(app.config, "TEST_PROVIDER_ENABLED", False)
    assert client.get(url(attempt)).status_code == 404
    assert client.post(url(attempt), data={"outcome": "complete"}).status_code == 404
    assert client.post(url(attempt), data={"csrf_token": token, "outcome": "complete"}).status_code == 404
    assert outcomes.calls == [] and db.query(TestProviderEvent).count() == 0
