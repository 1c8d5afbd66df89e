"""Factories for the ledger, outcome and customer tests: a published page with a variant, a
checkout session already in payment with its attempt, and a thread runner. Sessions and
attempts are written directly with the models, as payments.initiation.initiate_payment would
leave them, so these tests exercise payments.outcomes and not the initiation path."""
from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import sqlalchemy as sa

from checkie.catalog.coupons import create_coupon, reserve_redemption
from checkie.catalog.models import Page, PageStats, PageStatus, Variant, VariantOption
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.database import utcnow
from checkie.extensions import db as _db
from checkie.payments.models import PaymentAttempt
from checkie.stores.models import Store


def make_page(db, store: Store, *, title: str = "Linen tote bag", amount: int = 1000) -> Page:
    """A published one-time page with a "Colour" variant (Natural +0, Indigo +0) and zeroed stats."""
    count = db.scalar(sa.select(sa.func.count(Page.id))) + 1
    page = Page(store_id=store.id, slug=f"page-{count}", title=title, description="", amount=amount,
                currency=store.currency, status=PageStatus.PUBLISHED, published_at=utcnow())
    page.stats = PageStats(views=0, sessions=0, conversions=0, revenue=0)
    colour = Variant(name="Colour", position=0)
    colour.options = [VariantOption(name="Natural", price_delta=0, position=0),
                      VariantOption(name="Indigo", price_delta=0, position=1)]
    page.variants = [colour]
    db.add(page)
    db.flush()
    return page


def make_checkout(db, page: Page, *, state: CheckoutState = CheckoutState.PROCESSING, total: int | None = None,
                  email: str | None = "Shopper@Example.com", name: str | None = "Sam Shopper",
                  option: str = "Indigo", coupon_code: str | None = None) -> CheckoutSession:
    """A session on `page` with `option` chosen; `coupon_code` creates a 10 % coupon the session uses
    (reserved when the session is in payment, as initiate_payment does)."""
    total = page.amount if total is None else total
    variant = page.variants[0]
    chosen = next(o for o in variant.options if o.name == option)
    checkout = CheckoutSession(
        id="cs_" + secrets.token_urlsafe(24), store_id=page.store_id, page_id=page.id, state=CheckoutState.OPEN,
        email=email, name=name, variant_options={str(variant.id): chosen.id}, custom_fields={},
        subtotal=total, discount=0, total=total, currency=page.currency, attempt_count=0,
        expires_at=utcnow() + timedelta(hours=1), client_info={},
    )
    if coupon_code:
        checkout.coupon_id = create_coupon(db, page.store, code=coupon_code, percent_off=10).id
    db.add(checkout)
    db.flush()
    checkout.state = state
    db.flush()
    return checkout


def start_attempt(db, checkout: CheckoutSession, *, provider: str = "test") -> PaymentAttempt:
    """The next attempt, as initiate_payment leaves it: counted, coupon reserved, intent id stored,
    status processing, session processing. (The state is set directly: this is a fixture, not
    the path under test.)"""
    checkout.attempt_count += 1
    if checkout.coupon_id is not None and not checkout.coupon_reserved:
        assert reserve_redemption(db, checkout.coupon_id)
        checkout.coupon_reserved = True
    attempt = PaymentAttempt(
        session_id=checkout.id, number=checkout.attempt_count, provider=provider,
        provider_intent_id="pi_" + secrets.token_hex(12), amount=checkout.total, currency=checkout.currency,
        payment_method="pm_card_visa",
    )
    db.add(attempt)
    checkout.state = CheckoutState.PROCESSING
    db.flush()
    return attempt


def run_concurrently(app, count: int, work) -> list:
    """`work(session, index)` in `count` threads released together by a barrier, each in its own
    app context and transaction (committed); results in thread order. Thread errors fail the test."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def worker(index: int) -> None:
        try:
            with app.app_context():
                session = _db.session
                try:
                    barrier.wait(timeout=30)
                    results[index] = work(session, index)
                    session.commit()
                finally:
                    session.remove()
        except Exception as error:  # noqa: BLE001 - a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results
