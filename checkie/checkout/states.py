"""The checkout state machine as data (SPEC §4): one table of (from, event, guard) → to.

Nothing here touches the database. `checkout.services.apply_event` reads the table under a row
lock and is the only code that changes `CheckoutSession.state`. Rows are tried in order: the
first row for (state, event) whose guard passes (or that has none) wins, so a guarded row
followed by an unguarded one reads "if the guard holds go there, otherwise here".
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from checkie.checkout.models import CheckoutState


class CheckoutEvent(str, enum.Enum):
    UPDATE_SESSION = "UPDATE_SESSION"
    INITIATE_PAYMENT = "INITIATE_PAYMENT"
    TIMEOUT = "TIMEOUT"
    ABANDON = "ABANDON"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    ACTION_COMPLETED = "ACTION_COMPLETED"
    ACTION_FAILED = "ACTION_FAILED"


class Guard(str, enum.Enum):
    """Names of the guards; `checkout.guards` evaluates them."""

    IS_VALID_FOR_PAYMENT = "is_valid_for_payment"
    CAN_RETRY = "can_retry"
    IS_AMOUNT_VALID = "is_amount_valid"


@dataclass(frozen=True)
class Transition:
    from_state: CheckoutState
    event: CheckoutEvent
    guard: Guard | None
    to_state: CheckoutState


_S, _E, _G = CheckoutState, CheckoutEvent, Guard

TRANSITIONS: tuple[Transition, ...] = (
    Transition(_S.OPEN, _E.UPDATE_SESSION, None, _S.OPEN),
    Transition(_S.OPEN, _E.INITIATE_PAYMENT, _G.IS_VALID_FOR_PAYMENT, _S.PROCESSING),
    Transition(_S.OPEN, _E.TIMEOUT, None, _S.EXPIRED),
    Transition(_S.OPEN, _E.ABANDON, None, _S.ABANDONED),
    Transition(_S.PROCESSING, _E.PAYMENT_SUCCEEDED, _G.IS_AMOUNT_VALID, _S.COMPLETED),
    Transition(_S.PROCESSING, _E.PAYMENT_FAILED, _G.CAN_RETRY, _S.OPEN),
    Transition(_S.PROCESSING, _E.PAYMENT_FAILED, None, _S.EXPIRED),
    Transition(_S.PROCESSING, _E.REQUIRES_ACTION, None, _S.AWAITING_ACTION),
    Transition(_S.PROCESSING, _E.TIMEOUT, None, _S.EXPIRED),
    Transition(_S.AWAITING_ACTION, _E.ACTION_COMPLETED, None, _S.PROCESSING),
    Transition(_S.AWAITING_ACTION, _E.PAYMENT_SUCCEEDED, _G.IS_AMOUNT_VALID, _S.COMPLETED),
    Transition(_S.AWAITING_ACTION, _E.ACTION_FAILED, _G.CAN_RETRY, _S.OPEN),
    Transition(_S.AWAITING_ACTION, _E.ACTION_FAILED, None, _S.EXPIRED),
    Transition(_S.AWAITING_ACTION, _E.TIMEOUT, None, _S.EXPIRED),
    Transition(_S.AWAITING_ACTION, _E.ABANDON, None, _S.ABANDONED),
)

FINAL_STATES: frozenset[CheckoutState] = frozenset({_S.COMPLETED, _S.EXPIRED, _S.ABANDONED})

#: A session holds at most this many payment attempts (`can_retry`).
MAX_ATTEMPTS = 3


def rows_for(state: CheckoutState | str, event: CheckoutEvent | str) -> list[Transition]:
    """The table rows for (state, event), in order (empty: the event is refused)."""
    state, event = CheckoutState(state), CheckoutEvent(event)
    return [row for row in TRANSITIONS if row.from_state is state and row.event is event]


def next_state(
    state: CheckoutState | str, event: CheckoutEvent | str, passes: Callable[[str], bool] = lambda guard: True
) -> CheckoutState | None:
    """Where `event` takes a session in `state`, or None when no row applies. `passes(guard
    name)` is asked only for guarded rows, in table order."""
    for row in rows_for(state, event):
        if row.guard is None or passes(row.guard.value):
            return row.to_state
    return None


def accepts(state: CheckoutState | str, event: CheckoutEvent | str) -> bool:
    """Whether the table has any row for (state, event), guards aside."""
    return bool(rows_for(state, event))


def events_from(state: CheckoutState | str) -> set[CheckoutEvent]:
    """Every event the table has a row for in `state` (what a UI may offer)."""
    state = CheckoutState(state)
    return {row.event for row in TRANSITIONS if row.from_state is state}
