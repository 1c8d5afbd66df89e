"""Checkout sessions: open, read, update, pay, abandon and expire them (SPEC §3, §4).

Every state change goes through `apply_event`, which locks the session row (SELECT … FOR
UPDATE), reads the table in `checkout.states`, evaluates its guards and appends a
CheckoutSessionTransition. Services flush but never commit; amounts are minor units of the
page's currency.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from checkie.catalog import snapshot, stats
from checkie.catalog.answers import validate_answers
from checkie.catalog.coupons import (
    evaluate_coupon,
    release_hold,
)
from checkie.catalog.models import Coupon, Page, PageStatus
from checkie.catalog.snapshot import PageView
from checkie.checkout import guards, pricing
from checkie.checkout.locks import (
    CHECKOUT_BY_ID,
    checkout_page,
    held_lock,
    lock_checkout,
    lock_checkout_of_id,
)
from checkie.checkout.models import (
    CheckoutSession,
    CheckoutSessionTransition,
    CheckoutState,
)
from checkie.checkout.states import FINAL_STATES, CheckoutEvent, accepts, next_state
from checkie.database import utcnow
from checkie.email_addresses import EmailNotValidError, normalized_email
from checkie.errors import Conflict, NotFound, ValidationFailed
from checkie.webhooks.services import record_event

SESSION_PREFIX = "cs_"
NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
#: States a session leaves a coupon reservation behind in: the payment did not happen.
_UNPAID_STATES = frozenset({CheckoutState.OPEN, CheckoutState.EXPIRED, CheckoutState.ABANDONED})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Not given" for `update_checkout` (None and "" mean "clear it").
UNSET = _Unset()


class InvalidTransition(Conflict):
    """An event with no row in the state table for the session's current state: refused, and
    nothing changed (HTTP 409)."""

    code = "invalid_transition"


# ---------------------------------------------------------------- opening and reading


def new_checkout_id() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(24)


def view_checkout_page(db: Session, page: Page | PageView) -> None:
    """Count one view of the published page: all that showing its form writes (SPEC §6.1), so
    link previews and bots leave no session behind. NotFound for a page shoppers may not see."""
    _refuse_unpublished(page)
    stats.record_view(db, page.id)


def draft_checkout(db: Session, page: Page | PageView, *, variant_options: object = None) -> CheckoutSession:
    """The session the page's form shows before the shopper acts: never added to `db` (nothing
    is written), no id, priced for `variant_options` when they are a valid choice, else for the
    first option of every variant."""
    try:
        choice = pricing.check_variant_options(page, variant_options)
    except ValueError:
        choice = pricing.default_variant_options(page)
    checkout = _new_session(page, session_id=None, client_info={}, variant_options=choice)
    pricing.apply_amounts(checkout, pricing.amounts_for(db, page, choice, None), page)
    return checkout


def start_checkout(db: Session, page: Page | PageView, *, client_info: dict) -> CheckoutSession:
    """The session the shopper's first save or Pay on a checkout page creates; counts a session
    on the page (showing the page counted its view). NotFound for a page shoppers may not see."""
    checkout = _add_session(db, page, client_info=client_info)
    stats.record_session(db, page.id)
    return checkout


def open_checkout(db: Session, page: Page | PageView, *, client_info: dict) -> CheckoutSession:
    """A new open session on a published page (a Page or its catalog.snapshot view), with the
    first option of every variant chosen and its amounts computed; counts a view and a session
    on the page (the widget API opens the page and its session at once, SPEC §6.2). NotFound
    for a page shoppers may not see."""
    checkout = _add_session(db, page, client_info=client_info)
    stats.record_opened(db, page.id)
    return checkout


def _add_session(db: Session, page: Page | PageView, *, client_info: dict) -> CheckoutSession:
    _refuse_unpublished(page)
    choice = pricing.default_variant_options(page)
    checkout = _new_session(page, session_id=new_checkout_id(), client_info=client_info, variant_options=choice)
    pricing.apply_amounts(checkout, pricing.amounts_for(db, page, choice, None), page)
    db.add(checkout)
    db.flush()
    return checkout


def _new_session(
    page: Page | PageView, *, session_id: str | None, client_info: dict, variant_options: dict
) -> CheckoutSession:
    return CheckoutSession(
        id=session_id, store_id=page.store_id, page_id=page.id, state=CheckoutState.OPEN,
        variant_options=variant_options, custom_fields={}, currency=page.currency.upper(), attempt_count=0,
        coupon_reserved=False, expires_at=utcnow() + current_app.config["CHECKOUT_SESSION_TTL"],
        client_info=dict(client_info or {}),
    )


def _refuse_unpublished(page: Page | PageView) -> None:
    if page.status is not PageStatus.PUBLISHED:
        raise NotFound("Checkout page not found.")


def refuse_malformed_id(session_id: object) -> None:
    """Refuse anything that cannot be a session id before asking the database."""
    if not isinstance(session_id, str) or not session_id.startswith(SESSION_PREFIX) or len(session_id) > 64:
        raise NotFound("Checkout session not found.")


def select_checkout_with(*columns: sa.ColumnElement) -> sa.Select:
    """SELECT the session whose id is bound at execution (`session_id`), then `columns` (scalar
    subqueries about the session that higher layers bring, so that one round trip answers a
    shopper's polling), for `get_checkout_with`. Build it once, at import: SQLAlchemy then
    reuses the statement's cache key and compiled form instead of deriving them per request."""
    return sa.select(CheckoutSession, *columns).where(CheckoutSession.id == sa.bindparam("session_id"))


_CHECKOUT = select_checkout_with()


def get_checkout(db: Session, session_id: str) -> CheckoutSession:
    """The session with this public id; NotFound for any other string. To change it, use
    `lock_checkout_by_id` (locked once per transaction)."""
    return get_checkout_with(db, session_id, _CHECKOUT)[0]


def get_checkout_with(db: Session, session_id: str, statement: sa.Select) -> sa.Row:
    """The row of `statement` (`select_checkout_with`, or any SELECT of a session by the bound
    `session_id`) for the session with this public id; NotFound like `get_checkout`."""
    refuse_malformed_id(session_id)
    row = db.execute(statement, {"session_id": session_id}).one_or_none()
    if row is None:
        raise NotFound("Checkout session not found.")
    return row


def checkout_and_page(db: Session, session_id: str) -> tuple[CheckoutSession, PageView]:
    """The session and the cached view of its page, in one query: what the checkout pages
    render from. NotFound like `get_checkout`."""
    checkout, version = get_checkout_with(db, session_id, CHECKOUT_BY_ID)
    return checkout, snapshot.page_view(db, checkout.page_id, version)


def lock_checkout_by_id(db: Session, session_id: str) -> CheckoutSession:
    """The session with this public id, locked for this transaction (checkout.locks), as the
    widget's writing views load it; NotFound for any other string."""
    refuse_malformed_id(session_id)
    if held_lock(db, session_id):
        return db.get_one(CheckoutSession, session_id)
    checkout = lock_checkout_of_id(db, session_id)
    if checkout is None:
        raise NotFound("Checkout session not found.")
    return checkout


# ---------------------------------------------------------------- the one place state changes


def apply_event(
    db: Session, checkout: CheckoutSession, event: CheckoutEvent | str, *,
    detail: dict | None = None, amount: int | None = None, currency: str | None = None,
) -> CheckoutState:
    """Apply `event` under a row lock: the first table row whose guard passes decides the new
    state, and one transition row records it. InvalidTransition (nothing changed) when no row
    applies. `amount` (minor units) and `currency` feed `is_amount_valid`. Moving to an unpaid
    state from another gives back a reserved coupon redemption (staying open is
    `change_checkout`'s to judge); expiring (TIMEOUT, or the last payment attempt failing)
    records the `checkout.session.expired` webhook event."""
    event = CheckoutEvent(event)
    lock_checkout(db, checkout)
    from_state = checkout.state

    def passes(guard: str) -> bool:
        page = checkout_page(db, checkout) if guards.reads_page(guard) else None
        return guards.evaluate(guard, checkout, amount=amount, currency=currency, page=page)

    to_state = next_state(from_state, event, passes)
    if to_state is None:
        raise InvalidTransition(f"A {from_state.value} checkout session does not accept {event.value}.")
    checkout.state = to_state
    db.add(CheckoutSessionTransition(
        checkout=checkout, from_state=from_state, event=event.value, to_state=to_state, at=utcnow(), detail=detail or {}
    ))
    if to_state is CheckoutState.COMPLETED:
        checkout.completed_at = utcnow()
    if to_state in _UNPAID_STATES and to_state is not from_state:
        release_coupon(db, checkout)
    db.flush()
    if to_state is CheckoutState.EXPIRED and from_state is not CheckoutState.EXPIRED:
        record_event(db, checkout.store_id, "checkout.session.expired", checkout)
    return to_state


def release_coupon(db: Session, checkout: CheckoutSession) -> bool:
    """Give back the coupon redemption this session holds, once (safe to call again). The hold
    row decides, not the flag: a request that died after committing its hold left the flag
    unset. True when one was given back."""
    checkout.coupon_reserved = False
    released = release_hold(db, checkout.id) if checkout.id is not None else False
    db.flush()
    return released


# ---------------------------------------------------------------- the shopper's input


def refuse_past_expiry(checkout: CheckoutSession) -> None:
    """The expiry task applies TIMEOUT within a minute; until it has, a session past its expiry
    already refuses the shopper's changes and payments (nothing is changed here: the task
    records the transition)."""
    if checkout.state is CheckoutState.OPEN and checkout.expires_at <= utcnow():
        raise InvalidTransition("This checkout session has expired.")


@dataclass(frozen=True)
class CheckoutChange:
    """What `change_checkout` did: the session, and the coupon it dropped, if any."""

    checkout: CheckoutSession
    removed_coupon: pricing.RemovedCoupon | None = None


def update_checkout(
    db: Session, checkout: CheckoutSession, *, email=UNSET, name=UNSET, variant_options=UNSET,
    custom_fields=UNSET, coupon_code=UNSET,
) -> CheckoutSession:
    """`change_checkout`, for callers that need only the session."""
    return change_checkout(
        db, checkout, email=email, name=name, variant_options=variant_options, custom_fields=custom_fields,
        coupon_code=coupon_code,
    ).checkout


def change_checkout(
    db: Session, checkout: CheckoutSession, *, email=UNSET, name=UNSET, variant_options=UNSET,
    custom_fields=UNSET, coupon_code=UNSET,
) -> CheckoutChange:
    """Change what the shopper entered (only the arguments given) and recompute the amounts.
    Only an open session accepts it (InvalidTransition otherwise). ValidationFailed lists every
    bad field: `email`, `name`, `variant_options`, `custom_fields.<key>`, `coupon_code`; nothing
    is changed then. `coupon_code` "" or None removes the coupon; `custom_fields` are merged
    into the stored answers (a blank answer removes one). A coupon the session carries that the
    new selection no longer qualifies for is dropped, not a reason to refuse the change (the
    shopper did not just type it): the change names it. Redemptions are reserved only while a
    payment is under way; one a dead request left behind is given back (`_release_stale_hold`)."""
    lock_checkout(db, checkout)
    refuse_past_expiry(checkout)
    if not accepts(checkout.state, CheckoutEvent.UPDATE_SESSION):
        raise InvalidTransition(f"A {checkout.state.value} checkout session can no longer be changed.")
    page = checkout_page(db, checkout)
    errors: dict[str, list[str]] = {}
    changes: dict[str, object] = {}
    _check_contact(email, name, errors, changes)
    choice = checkout.variant_options
    if variant_options is not UNSET:
        try:
            choice = changes["variant_options"] = pricing.check_variant_options(page, variant_options)
        except ValueError as problem:
            errors["variant_options"] = [str(problem)]
    if custom_fields is not UNSET:
        _check_answers(checkout, page, custom_fields, errors, changes)
    removed, refusal = None, None
    if coupon_code is UNSET:
        coupon, removed = _kept_coupon(db, checkout, page, choice, changes)
    else:
        coupon, refusal = _chosen_coupon(db, checkout, page, coupon_code, choice, errors, changes)
    if not errors:
        try:
            amounts = pricing.amounts_for(db, page, choice, coupon, reserved=checkout.coupon_reserved)
        except ValidationFailed as problem:
            errors.update(problem.fields or {})
            refusal = problem.reason
    if errors:
        error = ValidationFailed("Some checkout fields are invalid.", fields=errors)
        error.reason = refusal
        raise error
    _release_stale_hold(db, checkout)  # before the change: of the coupon the session carried
    for attribute, value in changes.items():
        setattr(checkout, attribute, value)
    pricing.apply_amounts(checkout, amounts, page)
    detail: dict[str, object] = {"changed": sorted(changes)}
    if removed is not None:
        detail["couponRemoved"] = {"code": removed.code, "reason": removed.reason.value}
    apply_event(db, checkout, CheckoutEvent.UPDATE_SESSION, detail=detail)
    return CheckoutChange(checkout, removed)


def _release_stale_hold(db: Session, checkout: CheckoutSession) -> None:
    """An open session holds a redemption only when a paying request committed its hold
    (catalog.coupons.hold_redemption) and then died: give it back before the shopper changes or
    drops the code, or a payment without it would leave the redemption counted for good. Such a
    hold is of the coupon the session carried when it was paid for, and every change away from
    a coupon passes here first, so a session that carries none holds none of a coupon that
    exists (one of a deleted coupon gives nothing back): no DELETE for the common case."""
    if checkout.coupon_id is not None:
        release_coupon(db, checkout)


def payment_problems(db: Session, checkout: CheckoutSession) -> dict[str, list[str]]:
    """Why the payment guard (`is_valid_for_payment`) would refuse the session as it stands, by
    field (`email`, `custom_fields.<key>`, `total`); empty when it would pass. Reads only: for
    showing every problem at once before a payment is started."""
    return guards.payment_problems(checkout, page=checkout_page(db, checkout))


def _check_contact(email, name, errors: dict, changes: dict) -> None:
    """None or a blank string clears; any other value that is not a string is refused (a JSON
    0, false, [] or {} must not clear what the shopper entered)."""
    if email is not UNSET:
        text = email.strip() if isinstance(email, str) else email
        if text is None or text == "":
            changes["email"] = None
        elif not isinstance(text, str) or len(text) > EMAIL_MAX_LENGTH:
            errors["email"] = ["Enter a valid email address."]
        else:
            try:
                changes["email"] = normalized_email(text)
            except EmailNotValidError:
                errors["email"] = ["Enter a valid email address."]
    if name is not UNSET:
        text = name.strip() if isinstance(name, str) else name
        if text is None or text == "":
            changes["name"] = None
        elif not isinstance(text, str) or "\x00" in text:
            errors["name"] = ["Enter your name."]
        elif len(text) > NAME_MAX_LENGTH:
            errors["name"] = [f"Use at most {NAME_MAX_LENGTH} characters."]
        else:
            changes["name"] = text


def _check_answers(checkout: CheckoutSession, page: PageView, answers, errors: dict, changes: dict) -> None:
    if not isinstance(answers, dict):
        errors["custom_fields"] = ["Send the answers as an object keyed by field key."]
        return
    try:
        cleaned = validate_answers(page, answers, partial=True)
    except ValidationFailed as problem:
        for key, messages in (problem.fields or {"": [problem.message]}).items():
            errors[f"custom_fields.{key}" if key else "custom_fields"] = messages
        return
    merged = {key: value for key, value in (checkout.custom_fields or {}).items() if key not in answers}
    merged.update(cleaned)
    changes["custom_fields"] = merged


def _chosen_coupon(
    db: Session, checkout: CheckoutSession, page: PageView, code, choice: dict, errors: dict, changes: dict
) -> tuple[Coupon | None, str | None]:
    """The coupon the session will carry: the one given by `code` (checked now), or none when the
    code is blank; and the refusal reason, if any."""
    if code is None or (isinstance(code, str) and not code.strip()):
        changes["coupon_id"] = None
        return None, None
    if not isinstance(code, str):
        errors["coupon_code"] = [pricing.COUPON_MESSAGES[pricing.CouponReason.NOT_FOUND]]
        return None, pricing.CouponReason.NOT_FOUND.value
    evaluation = evaluate_coupon(
        db, page.store, code, page=page, subtotal=pricing.subtotal_for(page, choice), currency=checkout.currency
    )
    if evaluation.coupon is not None and evaluation.coupon.id == checkout.coupon_id and checkout.coupon_reserved:
        return evaluation.coupon, None  # already held by this session: its own reservation is not "used up"
    if not evaluation.valid:
        problem = pricing.coupon_problem(evaluation)
        errors.update(problem.fields or {})
        return None, problem.reason
    assert evaluation.coupon is not None  # a valid evaluation names its coupon
    changes["coupon_id"] = evaluation.coupon.id
    return evaluation.coupon, None


def _kept_coupon(
    db: Session, checkout: CheckoutSession, page: PageView, choice: dict, changes: dict
) -> tuple[Coupon | None, pricing.RemovedCoupon | None]:
    """The coupon the session carries, when the shopper named none: kept while it applies to the
    new selection (or is reserved by a payment under way), else dropped and described."""
    coupon = db.get(Coupon, checkout.coupon_id) if checkout.coupon_id is not None else None
    if coupon is None or checkout.coupon_reserved:
        return coupon, None
    evaluation = evaluate_coupon(
        db, page.store, coupon.code, page=page, subtotal=pricing.subtotal_for(page, choice), currency=checkout.currency
    )
    if evaluation.valid:
        return coupon, None
    changes["coupon_id"] = None
    reason = evaluation.reason or pricing.CouponReason.NOT_APPLICABLE
    return None, pricing.RemovedCoupon(coupon.code, reason, coupon.minimum_amount, coupon.currency or checkout.currency)


# ---------------------------------------------------------------- abandoning, expiring


def abandon_checkout(db: Session, checkout: CheckoutSession) -> CheckoutState:
    """The shopper gave up (ABANDON): final; a reserved coupon is given back."""
    return apply_event(db, checkout, CheckoutEvent.ABANDON)


def expire_due_batch(db: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """TIMEOUT for up to `limit` unfinished sessions whose expiry has passed, skipping rows
    another transaction holds (it is changing them anyway). Returns how many expired."""
    now = now or utcnow()
    stmt = (
        sa.select(CheckoutSession)
        .where(CheckoutSession.state.not_in(list(FINAL_STATES)), CheckoutSession.expires_at <= now)
        .order_by(CheckoutSession.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = list(db.scalars(stmt))
    for checkout in due:
        apply_event(db, checkout, CheckoutEvent.TIMEOUT, detail={"expiresAt": checkout.expires_at.isoformat()})
    return len(due)


def expire_due_checkouts(db: Session, now: datetime | None = None, *, batch_size: int = 200) -> int:
    """Expire every unfinished session past its expiry, in batches; returns the count."""
    total = 0
    while True:
        count = expire_due_batch(db, now=now, limit=batch_size)
        total += count
        if count < batch_size:
            return total
