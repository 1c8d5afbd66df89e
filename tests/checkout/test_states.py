"""The state table (SPEC §4): pure data, and every (state, event) pair applied to a real session."""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from checkie.checkout import services
from checkie.checkout.models import (
    CheckoutSession,
    CheckoutSessionTransition,
    CheckoutState,
)
from checkie.checkout.states import (
    FINAL_STATES,
    TRANSITIONS,
    CheckoutEvent,
    Guard,
    next_state,
    rows_for,
)
from tests.factories import force_state, make_page, payable_checkout

S, E = CheckoutState, CheckoutEvent

#: SPEC §4 verbatim: (from, event, guard, to).
SPEC_TABLE = [
    ("open", "UPDATE_SESSION", None, "open"),
    ("open", "INITIATE_PAYMENT", "is_valid_for_payment", "processing"),
    ("open", "TIMEOUT", None, "expired"),
    ("open", "ABANDON", None, "abandoned"),
    ("processing", "PAYMENT_SUCCEEDED", "is_amount_valid", "completed"),
    ("processing", "PAYMENT_FAILED", "can_retry", "open"),
    ("processing", "PAYMENT_FAILED", None, "expired"),
    ("processing", "REQUIRES_ACTION", None, "awaiting_action"),
    ("processing", "TIMEOUT", None, "expired"),
    ("awaiting_action", "ACTION_COMPLETED", None, "processing"),
    ("awaiting_action", "PAYMENT_SUCCEEDED", "is_amount_valid", "completed"),
    ("awaiting_action", "ACTION_FAILED", "can_retry", "open"),
    ("awaiting_action", "ACTION_FAILED", None, "expired"),
    ("awaiting_action", "TIMEOUT", None, "expired"),
    ("awaiting_action", "ABANDON", None, "abandoned"),
]
#: Where each allowed pair goes when its guards pass.
ALLOWED = {}
for _from, _event, _guard, _to in SPEC_TABLE:
    ALLOWED.setdefault((_from, _event), _to)
ALL_PAIRS = list(itertools.product([s.value for s in S], [e.value for e in E]))
REFUSED = [pair for pair in ALL_PAIRS if pair not in ALLOWED]


def test_the_table_is_spec_section_4_exactly():
    declared = [(r.from_state.value, r.event.value, r.guard.value if r.guard else None, r.to_state.value) for r in TRANSITIONS]
    assert declared == SPEC_TABLE
    assert FINAL_STATES == {S.COMPLETED, S.EXPIRED, S.ABANDONED}
    assert len(ALLOWED) == 13 and len(REFUSED) == 6 * 9 - 13


def test_final_states_accept_nothing():
    for state in FINAL_STATES:
        assert all(not rows_for(state, event) for event in E)


def test_guarded_rows_fall_through_to_the_next_row():
    assert next_state(S.PROCESSING, E.PAYMENT_FAILED, lambda g: True) is S.OPEN
    assert next_state(S.PROCESSING, E.PAYMENT_FAILED, lambda g: False) is S.EXPIRED
    assert next_state(S.AWAITING_ACTION, E.ACTION_FAILED, lambda g: g != Guard.CAN_RETRY.value) is S.EXPIRED
    assert next_state(S.OPEN, E.INITIATE_PAYMENT, lambda g: False) is None
    assert next_state(S.PROCESSING, E.PAYMENT_SUCCEEDED, lambda g: False) is None
    asked = []
    assert next_state(S.OPEN, E.TIMEOUT, lambda g: asked.append(g) or False) is S.EXPIRED
    assert asked == []  # unguarded rows never ask


def _snapshot(db, session):
    db.expire_all()
    row = db.get(CheckoutSession, session.id)
    count = db.scalar(sa.select(sa.func.count()).select_from(CheckoutSessionTransition).where(
        CheckoutSessionTransition.session_id == session.id))
    return row.state, row.attempt_count, count


@pytest.mark.parametrize(("state", "event"), sorted(ALLOWED))
def test_every_allowed_pair_reaches_its_state_with_one_transition(db, store, state, event):
    page = make_page(db, store, publish=True)
    session = force_state(db, payable_checkout(db, page), S(state), attempt_count=1)
    db.commit()
    _, attempts_before, transitions_before = _snapshot(db, session)

    result = services.apply_event(db, session, event, detail={"why": "test"}, amount=session.total, currency="usd")
    db.commit()

    state_after, attempts_after, transitions_after = _snapshot(db, session)
    assert result is state_after is S(ALLOWED[(state, event)])
    assert attempts_after == attempts_before
    assert transitions_after == transitions_before + 1
    last = db.get(CheckoutSession, session.id).transitions[-1]
    assert (last.from_state.value, last.event, last.to_state.value, last.detail) == (state, event, result.value, {"why": "test"})
    assert (db.get(CheckoutSession, session.id).completed_at is not None) == (result is S.COMPLETED)


@pytest.mark.parametrize(("state", "event"), REFUSED)
def test_every_other_pair_is_refused_and_changes_nothing(db, store, state, event):
    page = make_page(db, store, publish=True)
    session = force_state(db, payable_checkout(db, page), S(state), attempt_count=2)
    db.commit()
    before = _snapshot(db, session)

    with pytest.raises(services.InvalidTransition) as refused:
        services.apply_event(db, session, event, amount=session.total, currency="USD")
    db.rollback()

    assert refused.value.status == 409 and refused.value.code == "invalid_transition"
    assert _snapshot(db, session) == before
