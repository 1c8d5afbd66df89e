"""The customer portal's way in (SPEC §6.4, §9): magic links and portal sessions.

A link's token is 192 random bits, kept only as its SHA-256, valid 30 minutes, used once, and
replaced by the customer's next link. Opening a link (GET) changes nothing, because mail
scanners prefetch links; signing in with it consumes it in one conditional UPDATE, so two
tabs (or a scanner that does POST) cannot both get in. A portal session is one customer of one
store for 24 hours; the cookie or the JSON bearer token carries its token, the row its hash.

Services flush and never commit; `now` is the wall clock unless a caller gives one."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.customers.models import Customer, PortalLink, PortalLinkKind, PortalSession
from checkie.customers.services import find_customer
from checkie.database import rows_changed, utcnow
from checkie.errors import DomainError, NotFound
from checkie.notifications.services import queue_email
from checkie.security import hash_token, new_token
from checkie.stores.models import Store

LINK_LIFETIME = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=24)
#: 192 bits: SPEC asks for at least 128.
TOKEN_BYTES = 24
#: The per-address rate limit's scope (Flask-Limiter `shared_limit`): one counter for the portal's
#: page and its JSON API, and separate from an account's password-reset allowance.
ACCESS_EMAIL_SCOPE = "portal-access-email"


class LinkProblem(str, enum.Enum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REPLACED = "replaced"


class LinkRefused(DomainError):
    """A magic link that cannot sign anyone in; `problem` says why (the friendly page words it)."""

    status = 410
    code = "link_invalid"

    def __init__(self, problem: LinkProblem):
        messages = {
            LinkProblem.UNKNOWN: "This sign-in link is not valid.",
            LinkProblem.USED: "This sign-in link was already used.",
            LinkProblem.EXPIRED: "This sign-in link has expired.",
            LinkProblem.REPLACED: "A newer sign-in link was sent; this one no longer works.",
        }
        super().__init__(messages[problem])
        self.problem = problem


def portal_url(app_url: str, token: str) -> str:
    return f"{app_url.rstrip('/')}/portal/verify/{token}"


def issue_link(db: Session, customer: Customer, *, kind: PortalLinkKind, now: datetime | None = None) -> tuple[PortalLink, str]:
    """A new link for `customer`; every earlier unused link of theirs stops working. Returns the
    row and the token (for the URL: shown or emailed once, never stored)."""
    now = now or utcnow()
    db.execute(
        sa.update(PortalLink)
        .where(PortalLink.customer_id == customer.id, PortalLink.used_at.is_(None), PortalLink.replaced_at.is_(None))
        .values(replaced_at=now)
        .execution_options(synchronize_session=False)
    )
    token = new_token(TOKEN_BYTES)
    link = PortalLink(store_id=customer.store_id, customer_id=customer.id, token_hash=hash_token(token), kind=kind,
                      created_at=now, expires_at=now + LINK_LIFETIME)
    db.add(link)
    db.flush()
    return link, token


def request_access(db: Session, store: Store, email: object, *, app_url: str) -> None:
    """Email a sign-in link if `email` is a customer of `store`; do nothing otherwise. The caller
    answers the same either way, so the portal does not tell who bought here."""
    if not isinstance(email, str) or not email.strip():
        return
    customer = find_customer(db, store.id, email)
    if customer is None:
        return
    email_link(db, store, customer, kind=PortalLinkKind.REQUESTED, app_url=app_url)


def email_link(db: Session, store: Store, customer: Customer, *, kind: PortalLinkKind, app_url: str) -> PortalLink:
    """Issue a link (replacing the customer's older ones) and queue the `portal_link` email
    carrying it through the outbox: the customer asking for one, or the merchant sending one."""
    link, token = issue_link(db, customer, kind=kind)
    queue_email(
        db, to=customer.email, template="portal_link", subject=f"Your sign-in link for {store.name}",
        store_name=store.name, url=portal_url(app_url, token), minutes=int(LINK_LIFETIME.total_seconds() // 60),
    )
    return link


def link_for_token(db: Session, token: object, *, now: datetime | None = None) -> PortalLink:
    """The link `token` opens, if it can still sign in (reading changes nothing); LinkRefused
    saying why otherwise."""
    link = _link(db, token)
    problem = _problem(link, now or utcnow())
    if problem is not None:
        raise LinkRefused(problem)
    assert link is not None
    return link


def sign_in(db: Session, token: object, *, now: datetime | None = None) -> tuple[PortalSession, str]:
    """Consume the link and open a portal session for its customer; returns the session and its
    token (for the cookie or the bearer). LinkRefused when the link cannot be used (the one
    conditional UPDATE decides between two concurrent sign-ins)."""
    now = now or utcnow()
    link = link_for_token(db, token, now=now)
    consumed = db.execute(
        sa.update(PortalLink)
        .where(PortalLink.id == link.id, PortalLink.used_at.is_(None), PortalLink.replaced_at.is_(None),
               PortalLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(consumed) != 1:
        raise LinkRefused(LinkProblem.USED)
    raw = new_token()
    session = PortalSession(id=hash_token(raw), store_id=link.store_id, customer_id=link.customer_id, link_id=link.id,
                            created_at=now, expires_at=now + SESSION_LIFETIME)
    db.add(session)
    db.flush()
    return session, raw


def session_for(db: Session, token: object, *, now: datetime | None = None) -> PortalSession | None:
    """The live session `token` belongs to (not ended, not past its 24 hours), else None."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return db.scalar(sa.select(PortalSession).where(
        PortalSession.id == hash_token(token), PortalSession.ended_at.is_(None),
        PortalSession.expires_at > (now or utcnow()),
    ))


def sign_out(db: Session, session: PortalSession, *, now: datetime | None = None) -> None:
    session.ended_at = now or utcnow()
    db.flush()


def customer_of(db: Session, session: PortalSession) -> Customer:
    return db.get_one(Customer, session.customer_id)


def customer_in_store(db: Session, store: Store, customer_id: object) -> Customer:
    """The store's customer; NotFound for another store's, none, or an id that is not one."""
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        raise NotFound("No such customer.")
    customer = db.get(Customer, customer_id)
    if customer is None or customer.store_id != store.id:
        raise NotFound("No such customer.")
    return customer


def activity(db: Session, customer: Customer, *, limit: int = 20) -> tuple[list[PortalLink], list[PortalSession]]:
    """The customer's portal activity, newest first: links sent, and sign-ins."""
    links = list(db.scalars(sa.select(PortalLink).where(PortalLink.customer_id == customer.id)
                            .order_by(PortalLink.id.desc()).limit(limit)))
    sessions = list(db.scalars(sa.select(PortalSession).where(PortalSession.customer_id == customer.id)
                               .order_by(PortalSession.created_at.desc()).limit(limit)))
    return links, sessions


def _link(db: Session, token: object) -> PortalLink | None:
    if not isinstance(token, str) or not 16 <= len(token) <= 100:
        return None
    return db.scalar(sa.select(PortalLink).where(PortalLink.token_hash == hash_token(token)))


def _problem(link: PortalLink | None, now: datetime) -> LinkProblem | None:
    if link is None:
        return LinkProblem.UNKNOWN
    if link.used_at is not None:
        return LinkProblem.USED
    if link.replaced_at is not None:
        return LinkProblem.REPLACED
    if link.expires_at <= now:
        return LinkProblem.EXPIRED
    return None
