"""Coupons: codes a shopper enters at checkout for a percentage or a fixed amount off (SPEC §3).

Rules, checked here for the dashboard and the API alike (field names in errors are the
snake_case names of the arguments):
- `code`: 3–50 of A–Z a–z 0–9 _ -, stored as typed; unique per store regardless of case
  (`code_key`, the upper-cased code, carries the database's unique constraint).
- exactly one of `percent_off` (1–100) or `amount_off` (> 0, minor units of `currency`).
- `currency`: needed by `amount_off` and `minimum_amount` (both are amounts of it). A coupon
  with a currency applies only to checkouts in that currency; a percentage coupon without one
  applies in any currency.
- `max_redemptions` (≥ 1, never below what was already redeemed), `expires_at` (in the future
  when set or changed), `page_ids` (pages of the same store; empty means every page),
  `minimum_amount` (smallest subtotal), `duration` once|forever|repeating for subscriptions
  with `duration_months` 1–36 for repeating only.

Redemptions are counted with one conditional UPDATE (`reserve_redemption`), so concurrent
checkouts never exceed `max_redemptions`. A payment holds its redemption (`hold_redemption`)
in a short transaction of its own, committed before the PSP is called, so a popular coupon's
row is never locked across that network call. Checkouts will reference coupons by id with
ON DELETE SET NULL, so deleting a coupon never deletes history.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from checkie.catalog.models import Coupon, CouponDuration, CouponHold, Page
from checkie.catalog.snapshot import PageView, StoreView
from checkie.database import rows_changed, utcnow
from checkie.errors import NotFound, ValidationFailed
from checkie.money import MAX_AMOUNT, discount_amount, is_currency
from checkie.pagination import Slice, keyset_page
from checkie.stores.access import MAX_ID
from checkie.stores.models import Store

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,50}$")
#: `max_redemptions` and the counter are INTEGER columns.
MAX_REDEMPTIONS = 2**31 - 1
MAX_DURATION_MONTHS = 36
#: A restriction names at most this many pages (a longer list is a mistake, not a use case).
MAX_RESTRICTED_PAGES = 100
#: Every attribute `create_coupon` and `update_coupon` accept.
TERMS = (
    "code", "percent_off", "amount_off", "currency", "max_redemptions", "expires_at",
    "page_ids", "minimum_amount", "duration", "duration_months",
)
_UNIQUE_CODE = "uq_coupons_store_code_key"
_WITHIN_MAX = "redemptions_within_max"
_CODE_RULE = "Use 3–50 letters, digits, hyphens or underscores."


class CouponReason(str, enum.Enum):
    """Why a code does not apply (the widget's validate-coupon answers with these values)."""

    NOT_FOUND = "not_found"
    INACTIVE = "inactive"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    NOT_APPLICABLE = "not_applicable"
    BELOW_MINIMUM = "below_minimum"


@dataclass(frozen=True)
class CouponEvaluation:
    """A code checked against a page and a subtotal. `discount` and `total` are minor units of
    `currency`; an invalid code has a `reason`, no discount, and `total` equal to the subtotal.
    `coupon` is set whenever the code names a coupon, valid or not."""

    valid: bool
    reason: CouponReason | None
    coupon: Coupon | None
    discount: int
    total: int
    currency: str


# ---------------------------------------------------------------- reading


def code_key(code: str) -> str:
    """The form of a code that uniqueness and look-ups use: upper case."""
    return code.strip().upper()


def get_coupon(db: Session, store: Store, coupon_id: int) -> Coupon:
    """A coupon of `store`; another store's coupon is NotFound, like a missing one."""
    coupon = db.get(Coupon, coupon_id) if 0 < coupon_id <= MAX_ID else None
    if coupon is None or coupon.store_id != store.id:
        raise NotFound("Coupon not found.")
    return coupon


def find_coupon(db: Session, store: Store | StoreView, code: str) -> Coupon | None:
    """The store's coupon for `code` in any letter case; None for a code that cannot exist."""
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code.strip()):
        return None
    return db.scalar(sa.select(Coupon).where(Coupon.store_id == store.id, Coupon.code_key == code_key(code)))


def coupons_stmt(store: Store, *, active: bool | None = None) -> sa.Select[Coupon]:
    """The store's coupons (with their pages), optionally only active or inactive ones;
    callers order and paginate."""
    stmt = sa.select(Coupon).options(selectinload(Coupon.pages)).where(Coupon.store_id == store.id)
    if active is not None:
        stmt = stmt.where(Coupon.active.is_(active))
    return stmt


def list_coupons(
    db: Session, store: Store, *, active: bool | None = None, before_id: int | None = None, limit: int = 25
) -> Slice[Coupon]:
    """One page of coupons, newest first, older than `before_id`; and whether more follow."""
    return keyset_page(db, coupons_stmt(store, active=active), Coupon.id, after=before_id, limit=limit)


def coupon_status(coupon: Coupon, *, now: datetime | None = None) -> str:
    """For lists: `inactive`, `expired`, `exhausted` (used up) or `active`."""
    now = now or utcnow()
    if not coupon.active:
        return "inactive"
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return "expired"
    if coupon.max_redemptions is not None and coupon.redemption_count >= coupon.max_redemptions:
        return "exhausted"
    return "active"


def store_pages(db: Session, store: Store) -> list[Page]:
    """The pages a coupon of `store` may be restricted to, by title."""
    return list(db.scalars(sa.select(Page).where(Page.store_id == store.id).order_by(Page.title, Page.id)))


# ---------------------------------------------------------------- writing


def create_coupon(db: Session, store: Store, *, code: str, **terms: Any) -> Coupon:
    """A new active coupon of `store`. Keyword arguments are the rest of TERMS (see the module
    docstring); ValidationFailed names every field that breaks a rule, `code` when taken."""
    _refuse_unknown(terms)
    checked = _checked_terms(db, store, {**_DEFAULTS, **terms, "code": code}, coupon=None)
    coupon = Coupon(store_id=store.id, active=True, redemption_count=0)
    _save(db, coupon, checked, add=True)
    return coupon


def update_coupon(db: Session, coupon: Coupon, changes: Mapping[str, Any]) -> Coupon:
    """Change the terms named in `changes` (keys from TERMS; absent keys keep their value, None
    clears an optional one). Giving `percent_off` drops `amount_off` and vice versa; leaving
    `repeating` drops `duration_months`. Same rules and errors as `create_coupon`."""
    _refuse_unknown(changes)
    checked = _checked_terms(db, db.get_one(Store, coupon.store_id), _merged_changes(coupon, changes), coupon=coupon)
    _save(db, coupon, checked, add=False)
    return coupon


def deactivate_coupon(db: Session, coupon: Coupon) -> Coupon:
    """Stop the code from working for shoppers (reserved redemptions stay; reactivating is allowed)."""
    coupon.active = False
    db.flush()
    return coupon


def activate_coupon(db: Session, coupon: Coupon) -> Coupon:
    coupon.active = True
    db.flush()
    return coupon


def delete_coupon(db: Session, coupon: Coupon) -> None:
    """Delete the coupon and its page restriction (the database cascades coupon_pages)."""
    db.delete(coupon)
    db.flush()


_DEFAULTS: dict[str, Any] = {
    "percent_off": None, "amount_off": None, "currency": None, "max_redemptions": None, "expires_at": None,
    "page_ids": (), "minimum_amount": None, "duration": CouponDuration.ONCE, "duration_months": None,
}


def check_coupon_terms(db: Session, store: Store, terms: Mapping[str, Any], *, coupon: Coupon | None = None) -> dict[str, Any]:
    """Check terms without writing: those of a new coupon, or changes to `coupon`. The checked,
    normalised terms, or ValidationFailed naming every field that breaks a rule (forms use it
    to report everything at once when some of their own fields already failed)."""
    _refuse_unknown(terms)
    if coupon is None:
        return _checked_terms(db, store, {**_DEFAULTS, "code": None, **terms}, coupon=None)
    return _checked_terms(db, store, _merged_changes(coupon, terms), coupon=coupon)


def _refuse_unknown(terms: Mapping[str, Any]) -> None:
    unknown = set(terms) - set(TERMS)
    if unknown:
        raise TypeError(f"unknown coupon terms: {sorted(unknown)}")


def _merged_changes(coupon: Coupon, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The coupon's terms with `changes` applied, and what they imply for the other fields."""
    merged = {name: getattr(coupon, name) for name in TERMS if name != "page_ids"}
    merged["page_ids"] = [page.id for page in coupon.pages]
    merged.update(changes)
    if changes.get("percent_off") is not None and "amount_off" not in changes:
        merged["amount_off"] = None
    if changes.get("amount_off") is not None and "percent_off" not in changes:
        merged["percent_off"] = None
    if "duration" in changes and changes["duration"] != CouponDuration.REPEATING and "duration_months" not in changes:
        merged["duration_months"] = None
    return merged


def _checked_terms(db: Session, store: Store, terms: dict[str, Any], *, coupon: Coupon | None) -> dict[str, Any]:
    """The terms, normalised, or ValidationFailed listing every broken rule by field."""
    errors: dict[str, list[str]] = {}

    def check(name: str, rule: Callable[[Any], Any]) -> None:
        try:
            terms[name] = rule(terms[name])
        except ValueError as problem:
            errors.setdefault(name, []).append(str(problem))

    check("code", _check_code)
    check("percent_off", lambda v: _check_int(v, 1, 100, "Enter a percentage from 1 to 100."))
    check("amount_off", lambda v: _check_int(v, 1, MAX_AMOUNT, "Enter an amount greater than 0."))
    check("minimum_amount", lambda v: _check_int(v, 0, MAX_AMOUNT, "Enter an amount of 0 or more."))
    check("max_redemptions", lambda v: _check_int(v, 1, MAX_REDEMPTIONS, "Enter a whole number of 1 or more."))
    check("currency", _check_currency)
    check("duration", _check_duration)
    check("duration_months", lambda v: _check_int(v, 1, MAX_DURATION_MONTHS, "Enter 1 to 36 months."))
    previous_expiry = coupon.expires_at if coupon is not None else None
    check("expires_at", lambda v: _check_expiry(v, previous_expiry))
    check("page_ids", lambda v: _check_pages(db, store, v))
    for name, problem in _combination_problems(terms, coupon):
        if name not in errors:  # one message per field: its own value first
            errors[name] = [problem]
    if "code" not in errors and _code_taken(db, store, terms["code"], except_id=coupon.id if coupon else None):
        errors["code"] = ["A coupon with this code already exists (codes ignore letter case)."]
    if errors:
        raise ValidationFailed("Some coupon fields are invalid.", fields=errors)
    return terms


def _combination_problems(terms: dict[str, Any], coupon: Coupon | None) -> Iterable[tuple[str, str]]:
    """Rules between fields; a field that already failed on its own value is skipped."""
    percent, amount = terms["percent_off"], terms["amount_off"]
    if percent is None and amount is None:
        message = "Give a percentage or a fixed amount off."
        yield from (("percent_off", message), ("amount_off", message))
    elif percent is not None and amount is not None:
        message = "Give a percentage or a fixed amount off, not both."
        yield from (("percent_off", message), ("amount_off", message))
    if terms["currency"] is None and (amount is not None or terms["minimum_amount"] is not None):
        yield "currency", "Choose the currency of the amounts."
    if terms["duration"] == CouponDuration.REPEATING and terms["duration_months"] is None:
        yield "duration_months", "A repeating coupon needs a number of months (1 to 36)."
    if terms["duration"] != CouponDuration.REPEATING and terms["duration_months"] is not None:
        yield "duration_months", "Only repeating coupons last a number of months."
    redeemed = coupon.redemption_count if coupon is not None else 0
    limit = terms["max_redemptions"]
    if isinstance(limit, int) and redeemed and limit < redeemed:
        yield "max_redemptions", f"It has already been redeemed {redeemed} times; the limit cannot be lower."


def _check_code(value: Any) -> str:
    code = value.strip() if isinstance(value, str) else ""
    if not CODE_PATTERN.fullmatch(code):
        raise ValueError(_CODE_RULE)
    return code


def _check_int(value: Any, low: int, high: int, message: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(message)
    return value


def _check_currency(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not is_currency(value.strip()):
        raise ValueError("Choose a supported ISO-4217 currency, e.g. USD.")
    return value.strip().upper()


def _check_duration(value: Any) -> CouponDuration:
    try:
        return CouponDuration(value)
    except ValueError:
        raise ValueError("Choose once, forever or repeating.") from None


def _check_expiry(value: Any, previous: datetime | None) -> datetime | None:
    """Naive datetimes are read as UTC. A new or changed expiry must lie in the future (to end
    a coupon now, deactivate it); an unchanged past one may stay."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValueError("Enter a date and time.")
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value != previous and value <= utcnow():
        raise ValueError("Choose a time in the future.")
    return value


def _check_pages(db: Session, store: Store, value: Any) -> list[Page]:
    ids = list(dict.fromkeys(value or ()))
    if len(ids) > MAX_RESTRICTED_PAGES:
        raise ValueError(f"Restrict a coupon to at most {MAX_RESTRICTED_PAGES} pages.")
    if any(isinstance(i, bool) or not isinstance(i, int) or not 0 < i <= MAX_ID for i in ids):
        raise ValueError("Choose pages of this store.")
    pages = list(db.scalars(sa.select(Page).where(Page.store_id == store.id, Page.id.in_(ids)))) if ids else []
    if len(pages) != len(ids):
        raise ValueError("Choose pages of this store.")
    return sorted(pages, key=lambda page: ids.index(page.id))


def _code_taken(db: Session, store: Store, code: str, *, except_id: int | None) -> bool:
    stmt = sa.select(Coupon.id).where(Coupon.store_id == store.id, Coupon.code_key == code_key(code))
    if except_id is not None:
        stmt = stmt.where(Coupon.id != except_id)
    return db.scalar(stmt) is not None


def _save(db: Session, coupon: Coupon, terms: dict[str, Any], *, add: bool) -> None:
    """Apply and flush inside a savepoint. The read in `_code_taken` can race another
    transaction, and a redemption can land between our check of `max_redemptions` and this
    write: the constraints are the real guards, and their violations become 422s, not 500s."""
    try:
        with db.begin_nested():
            if add:
                db.add(coupon)
            for name, value in terms.items():
                if name == "page_ids":
                    coupon.pages = value
                else:
                    setattr(coupon, name, value)
            coupon.code_key = code_key(coupon.code)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or str(exc.orig)
        if _UNIQUE_CODE in constraint:
            raise ValidationFailed.on("code", "A coupon with this code already exists (codes ignore letter case).") from None
        if _WITHIN_MAX in constraint:
            raise ValidationFailed.on(
                "max_redemptions", "It has just been redeemed more often than that; choose a higher limit."
            ) from None
        raise


# ---------------------------------------------------------------- evaluating and redeeming


def evaluate_coupon(
    db: Session, store: Store | StoreView, code: str, *, page: Page | PageView, subtotal: int, currency: str,
    now: datetime | None = None,
) -> CouponEvaluation:
    """Check `code` against a checkout of `page` for `subtotal` (minor units of `currency`) and
    compute the discount. The widget's validate-coupon and the merchant API both call this.

    The checks run in this order, and the first that fails is the reason:
    1. not_applicable — the page takes no coupons at all (checked before the look-up: any code
       is refused alike, so such a page does not reveal which codes exist);
    2. not_found — no coupon with this code in the store (any letter case);
    3. inactive, 4. expired (expires_at ≤ now), 5. exhausted (redemption_count has reached
       max_redemptions) — the coupon itself cannot be used anywhere right now;
    6. not_applicable — restricted to other pages, or its currency is not the checkout's;
    7. below_minimum — last, because it is the one the shopper can fix by buying more.
    """
    now = now or utcnow()
    currency = currency.upper()
    coupon = find_coupon(db, store, code) if page.allow_coupons and page.store_id == store.id else None
    reason: CouponReason | None
    if not page.allow_coupons or page.store_id != store.id:
        reason = CouponReason.NOT_APPLICABLE
    elif coupon is None:
        reason = CouponReason.NOT_FOUND
    else:
        reason = _reason_refused(coupon, page=page, subtotal=subtotal, currency=currency, now=now)
    if reason is not None:
        return CouponEvaluation(False, reason, coupon, 0, subtotal, currency)
    assert coupon is not None  # without one, `reason` was set
    discount = discount_amount(subtotal, percent_off=coupon.percent_off, amount_off=coupon.amount_off)
    return CouponEvaluation(True, None, coupon, discount, subtotal - discount, currency)


def _reason_refused(coupon: Coupon, *, page: Page | PageView, subtotal: int, currency: str, now: datetime) -> CouponReason | None:
    if not coupon.active:
        return CouponReason.INACTIVE
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return CouponReason.EXPIRED
    if coupon.max_redemptions is not None and coupon.redemption_count >= coupon.max_redemptions:
        return CouponReason.EXHAUSTED
    if coupon.pages and page.id not in {p.id for p in coupon.pages}:
        return CouponReason.NOT_APPLICABLE
    if coupon.currency is not None and coupon.currency != currency:
        return CouponReason.NOT_APPLICABLE
    if coupon.minimum_amount is not None and subtotal < coupon.minimum_amount:
        return CouponReason.BELOW_MINIMUM
    return None


def reserve_redemption(db: Session, coupon_id: int, *, now: datetime | None = None) -> bool:
    """Count one redemption if the coupon is active, unexpired and below max_redemptions, in a
    single conditional UPDATE: concurrent callers queue on the row and re-check the condition,
    so the limit holds without a read. True when counted. Call when a payment is initiated;
    `release_redemption` gives it back if that attempt fails or the session ends unpaid."""
    now = now or utcnow()
    stmt = (
        sa.update(Coupon)
        .where(
            Coupon.id == coupon_id,
            Coupon.active,
            sa.or_(Coupon.max_redemptions.is_(None), Coupon.redemption_count < Coupon.max_redemptions),
            sa.or_(Coupon.expires_at.is_(None), Coupon.expires_at > now),
        )
        .values(redemption_count=Coupon.redemption_count + 1)
    )
    return _counted(db, coupon_id, stmt)


def release_redemption(db: Session, coupon_id: int) -> bool:
    """Give back one reserved redemption (never below 0). True when one was given back."""
    stmt = (
        sa.update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.redemption_count > 0)
        .values(redemption_count=Coupon.redemption_count - 1)
    )
    return _counted(db, coupon_id, stmt)


#: How long holding a redemption waits for the coupon's row before giving up: only another
#: hold's short transaction ever locks it, so a longer wait means something is wrong.
HOLD_LOCK_TIMEOUT = "5s"


def hold_redemption(db: Session, checkout_session_id: str, coupon_id: int) -> bool:
    """Hold one redemption of `coupon_id` for the session's payment, committed at once in a
    transaction of its own (`_own_transaction`), before the caller asks the PSP: True when
    held (or already held by this session: a retry after a request that died reuses it), False
    when the coupon cannot be redeemed (nothing held). A hold of another coupon by the same
    session (the shopper changed the code) is given back first."""
    with _own_transaction(db) as own:
        held = own.get(CouponHold, checkout_session_id, with_for_update=True)
        if held is not None and held.coupon_id == coupon_id:
            return True
        if held is not None:
            release_redemption(own, held.coupon_id)
            own.delete(held)
            own.flush()
        if not reserve_redemption(own, coupon_id):
            return False
        own.add(CouponHold(checkout_session_id=checkout_session_id, coupon_id=coupon_id))
    _forget_count(db, coupon_id)
    return True


def release_hold(db: Session, checkout_session_id: str) -> bool:
    """Give back the redemption the session holds, if any, in the caller's transaction (the
    session ended unpaid, or its attempt failed). True when one was given back."""
    coupon_id = db.scalar(
        sa.delete(CouponHold).where(CouponHold.checkout_session_id == checkout_session_id).returning(CouponHold.coupon_id)
    )
    return release_redemption(db, coupon_id) if coupon_id is not None else False


def release_hold_at_once(db: Session, checkout_session_id: str) -> bool:
    """`release_hold` committed in a transaction of its own: for a payment whose request fails
    after the hold was committed, whose own transaction will roll back."""
    with _own_transaction(db) as own:
        released = release_hold(own, checkout_session_id)
    return released


@contextmanager
def _own_transaction(db: Session) -> Iterator[Session]:
    """A session on its own connection whose transaction commits as the block ends. On SQLite
    (the embedded profile) the caller's own session: SQLite has one writer at a time, so a
    second connection would wait for the caller's transaction, and that transaction's lock
    covers the whole database anyway."""
    bind = db.get_bind()
    if bind.dialect.name != "postgresql":
        yield db
        db.flush()
        return
    with Session(bind=bind) as own, own.begin():
        own.execute(sa.text(f"SET LOCAL lock_timeout = '{HOLD_LOCK_TIMEOUT}'"))
        yield own


def _forget_count(db: Session, coupon_id: int) -> None:
    """Make a Coupon the caller's session loaded re-read its counter, changed on another connection."""
    loaded = db.identity_map.get(Session.identity_key(Coupon, coupon_id))
    if loaded is not None:
        db.expire(loaded, ["redemption_count"])


def _counted(db: Session, coupon_id: int, stmt: sa.Update) -> bool:
    """Run a counter UPDATE and make a loaded Coupon re-read its counter rather than trust a
    value computed in Python."""
    if not 0 < coupon_id <= MAX_ID:
        return False
    changed = rows_changed(db.execute(stmt.execution_options(synchronize_session=False))) == 1
    _forget_count(db, coupon_id)
    return changed
