"""What may be done to a subscription in which status: one declared table, read by `check`
(the dashboard, the JSON API and the portal all go through it). A move with no row is refused
with a 409 and changes nothing."""
from __future__ import annotations

import enum
from typing import NamedTuple

from checkie.errors import Conflict
from checkie.subscriptions.models import Subscription, SubscriptionStatus


class Action(str, enum.Enum):
    CANCEL_NOW = "cancel_now"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end"
    #: Take back a cancellation at period end before the period ends.
    UNCANCEL = "uncancel"
    PAUSE = "pause"
    RESUME = "resume"


class Guard(str, enum.Enum):
    #: Not already set to cancel at its period's end.
    NOT_ENDING = "not_ending"
    #: Set to cancel at its period's end.
    ENDING = "ending"


class Move(NamedTuple):
    action: Action
    source: SubscriptionStatus
    guard: Guard | None
    target: SubscriptionStatus


_S = SubscriptionStatus
TABLE: tuple[Move, ...] = (
    Move(Action.CANCEL_NOW, _S.TRIALING, None, _S.CANCELED),
    Move(Action.CANCEL_NOW, _S.ACTIVE, None, _S.CANCELED),
    Move(Action.CANCEL_NOW, _S.PAST_DUE, None, _S.CANCELED),
    Move(Action.CANCEL_NOW, _S.PAUSED, None, _S.CANCELED),
    Move(Action.CANCEL_AT_PERIOD_END, _S.TRIALING, Guard.NOT_ENDING, _S.TRIALING),
    Move(Action.CANCEL_AT_PERIOD_END, _S.ACTIVE, Guard.NOT_ENDING, _S.ACTIVE),
    Move(Action.UNCANCEL, _S.TRIALING, Guard.ENDING, _S.TRIALING),
    Move(Action.UNCANCEL, _S.ACTIVE, Guard.ENDING, _S.ACTIVE),
    Move(Action.PAUSE, _S.ACTIVE, Guard.NOT_ENDING, _S.PAUSED),
    Move(Action.RESUME, _S.PAUSED, None, _S.ACTIVE),
)


class IllegalAction(Conflict):
    """The action has no row for the subscription's status (and flags): 409, nothing changed."""

    code = "invalid_subscription_action"


def _passes(guard: Guard | None, subscription: Subscription) -> bool:
    if guard is Guard.NOT_ENDING:
        return not subscription.cancel_at_period_end
    if guard is Guard.ENDING:
        return subscription.cancel_at_period_end
    return True


def move_for(subscription: Subscription, action: Action) -> Move | None:
    """The table's row for `action` on the subscription as it stands, or None."""
    for move in TABLE:
        if move.action is action and move.source is subscription.status and _passes(move.guard, subscription):
            return move
    return None


def allowed(subscription: Subscription) -> list[Action]:
    """Every action the table allows now, in the table's order (what the dashboard offers)."""
    return [action for action in Action if move_for(subscription, action) is not None]


_VERBS = {
    Action.CANCEL_NOW: "cancelled", Action.CANCEL_AT_PERIOD_END: "set to cancel at the end of its period",
    Action.UNCANCEL: "kept (it is not set to cancel)", Action.PAUSE: "paused", Action.RESUME: "resumed",
}


def check(subscription: Subscription, action: Action) -> Move:
    """The row that allows `action`; IllegalAction (409) saying why when there is none."""
    move = move_for(subscription, action)
    if move is None:
        state = subscription.status.value.replace("_", " ")
        if subscription.cancel_at_period_end and subscription.status is not SubscriptionStatus.CANCELED:
            state += " and set to cancel at the end of its period"
        raise IllegalAction(f"A subscription that is {state} cannot be {_VERBS[action]}.")
    return move
