"""The suite's one set of factories: plain functions that take the session first and keyword
overrides, flush and never commit (a test commits before its requests), and return the object.

Catalog objects and open checkouts go through the real services, so their invariants hold (stats
rows, unique slugs and keys, the price floor, the checkout's own totals). Rows the services only
reach through a payment flow (sessions in any state, attempts, payments, customers, ledger rows,
outbox emails) are written directly with the models, as that flow leaves them, so a test of one
step does not depend on every step before it."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa

from checkie.accounts.models import TokenPurpose, User, UserToken
from checkie.catalog.embeds import create_embed
from checkie.catalog.fields import create_field
from checkie.catalog.pages import create_page, publish_page
from checkie.catalog.variants import add_option, add_variant
from checkie.catalog.coupons import create_coupon, reserve_redemption
from checkie.catalog.models import Coupon, CouponHold, CustomField, Embed, Page, PageStats, Variant
from checkie.checkout import services as checkout_services
from checkie.checkout.models import CheckoutSession, CheckoutSessionTransition, CheckoutState
from checkie.customers.models import Customer
from checkie.database import utcnow
from checkie.notifications.models import EmailMessage
from checkie.payments.outcomes import payment_succeeded
from checkie.payments.models import (
    AttemptStatus,
    BalanceTransaction,
    Payment,
    Payout,
    PayoutStatus,
    PaymentAttempt,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    StoreBalance,
    TransactionType,
)
from checkie.security import hash_password, new_token
from checkie.stores.models import MemberStatus, Role, Store, StoreMember
from checkie.webhooks import services as webhook_services
from checkie.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

DEFAULT_PASSWORD = "correct horse battery staple"


# ---------------------------------------------------------------- accounts and stores


@lru_cache
def _default_password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose, and most tests never type the password."""
    return hash_password(DEFAULT_PASSWORD)


def make_user(db, *, email: str | None = None, name: str = "Ada Merchant", password: str = DEFAULT_PASSWORD,
              verified: bool = False) -> User:
    email = email or f"user{db.query(User).count() + 1}@example.com"
    pw_hash = _default_password_hash() if password == DEFAULT_PASSWORD else hash_password(password)
    user = User(email=email.lower(), name=name, password_hash=pw_hash, email_verified_at=utcnow() if verified else None)
    db.add(user)
    db.flush()
    return user


def verified_user(db, *, email: str = "ada@example.com", password: str = DEFAULT_PASSWORD, name: str = "Ada Lovelace") -> User:
    """A user who confirmed their address (the dashboard's log-in requires it), committed: what
    the sign-in tests start from."""
    user = make_user(db, email=email, password=password, name=name, verified=True)
    db.commit()
    return user


def expire_tokens(db, purpose: TokenPurpose) -> None:
    """Push every token of `purpose` past its expiry, as if the lifetime had run out (committed)."""
    past = utcnow() - timedelta(seconds=1)
    db.execute(sa.update(UserToken).where(UserToken.purpose == purpose).values(expires_at=past))
    db.commit()


def make_store(db, *, owner: User | None = None, name: str = "Acme Goods", slug: str | None = None, currency: str = "USD") -> Store:
    owner = owner or make_user(db)
    slug = slug or f"{name.lower().replace(' ', '-')}-{db.query(Store).count() + 1}"
    store = Store(name=name, slug=slug, currency=currency, owner=owner)
    db.add(store)
    db.flush()
    add_member(db, store, owner, role=Role.OWNER)
    return store


def add_member(db, store: Store, user: User, *, role: Role = Role.ADMIN) -> StoreMember:
    member = StoreMember(store=store, user=user, email=user.email, role=role, status=MemberStatus.ACTIVE, joined_at=utcnow())
    db.add(member)
    db.flush()
    return member


# ---------------------------------------------------------------- catalog


def make_page(db, store: Store, *, title: str = "T-shirt", amount: int = 2500, allow_coupons: bool = True,
              variants: dict[str, dict[str, int]] | None = None, publish: bool = False, **options) -> Page:
    """A one-time page through the pages service, with its zeroed stats row: a draft unless
    `publish`. `variants` maps each variant's name to its {option name: price delta} (minor
    units), added before publishing (a published page takes no new variant). `options` are the
    rest of create_page's arguments (slug, currency, pricing_type, success_url, …)."""
    page = create_page(db, store, title=title, amount=amount, allow_coupons=allow_coupons, **options)
    for name, deltas in (variants or {}).items():
        make_variant(db, page, name=name, options=deltas)
    if publish:
        publish_page(db, page)
    db.flush()
    return page


def make_variant(db, page: Page, *, name: str = "Size", options: dict[str, int] | None = None) -> Variant:
    """A variant with its options ({name: price delta}, in order) through the variants service."""
    variant = add_variant(db, page, name=name)
    for option, delta in (options if options is not None else {"S": 0, "L": 500}).items():
        add_option(db, variant, name=option, price_delta=delta)
    return variant


def make_field(db, page: Page, *, label: str = "Company", type: str = "text", **options) -> CustomField:
    return create_field(db, page, label=label, type=type, **options)


def make_embed(db, page: Page, *, type: str = "inline", **options) -> Embed:
    return create_embed(db, page, type=type, **options)


def make_coupon(db, store: Store, *, code: str = "SAVE10", **terms) -> Coupon:
    """A coupon through the service; 10 % off unless the terms say otherwise, an amount off in
    the store's currency unless they name one."""
    if "percent_off" not in terms and "amount_off" not in terms:
        terms["percent_off"] = 10
    if "amount_off" in terms:
        terms.setdefault("currency", store.currency)
    return create_coupon(db, store, code=code, **terms)


def open_checkouts(db, page: Page, count: int = 1) -> None:
    """What opening a checkout does to the page's counter (an atomic increment), without a session."""
    db.execute(sa.update(PageStats).where(PageStats.page_id == page.id).values(sessions=PageStats.sessions + count))
    db.flush()
    db.refresh(page.stats)


# ---------------------------------------------------------------- checkout


def open_checkout(db, page: Page, **updates) -> CheckoutSession:
    """A session opened through the checkout service (the page must be published), then updated
    with `updates` (email, custom_fields, coupon_code, …) the same way."""
    session = checkout_services.open_checkout(db, page, client_info={"ip": "127.0.0.1"})
    if updates:
        checkout_services.update_checkout(db, session, **updates)
    return session


def payable_checkout(db, page: Page) -> CheckoutSession:
    return open_checkout(db, page, email="shopper@example.com", name="Sam Shopper")


def make_checkout(db, page: Page, *, state: CheckoutState = CheckoutState.OPEN, total: int | None = None,
                  currency: str | None = None, email: str | None = "shopper@example.com", name: str | None = "Sam Shopper",
                  options: dict[str, str] | None = None, coupon: Coupon | None = None, created_at: datetime | None = None,
                  history=()) -> CheckoutSession:
    """A session on `page` written directly, in any `state`, without the page's counters moving.
    `total` defaults to the page's amount; each variant gets its first option unless `options`
    ({variant name: option name}) picks another; `history` is (from, event, to) triples, one
    transition row a minute after `created_at`. A completed session completed five minutes in."""
    total = page.amount if total is None else total
    created_at = created_at or utcnow()
    chosen = _chosen_options(page, options or {})
    checkout = CheckoutSession(
        id="cs_" + secrets.token_urlsafe(24), store_id=page.store_id, page_id=page.id, state=state, email=email,
        name=name, variant_options=chosen, custom_fields={}, coupon_id=coupon.id if coupon else None, subtotal=total,
        discount=0, total=total, currency=currency or page.currency, attempt_count=0, client_info={},
        expires_at=created_at + timedelta(hours=1), created_at=created_at,
        completed_at=created_at + timedelta(minutes=5) if state is CheckoutState.COMPLETED else None,
    )
    db.add(checkout)
    db.flush()
    for n, (from_state, event, to_state) in enumerate(history):
        db.add(CheckoutSessionTransition(session_id=checkout.id, from_state=from_state, event=event, to_state=to_state,
                                         at=created_at + timedelta(minutes=n + 1)))
    db.flush()
    return checkout


def _chosen_options(page: Page, names: dict[str, str]) -> dict[str, int]:
    """{variant id: option id}: the option `names` gives for each variant, else its first one."""
    chosen = {}
    for variant in page.variants:
        wanted = names.get(variant.name, variant.options[0].name if variant.options else None)
        chosen.update({str(variant.id): option.id for option in variant.options if option.name == wanted})
    return chosen


def force_state(db, session: CheckoutSession, state: CheckoutState, *, attempt_count: int = 1) -> CheckoutSession:
    """Test set-up only: put a session in `state` without the table (to walk every pair)."""
    session.state = state
    session.attempt_count = attempt_count
    db.flush()
    return session


# ---------------------------------------------------------------- payments


def make_attempt(db, checkout: CheckoutSession, *, status: AttemptStatus = AttemptStatus.PROCESSING, provider: str = "test",
                 intent_id: str | None = None, payment_method: str = "pm_card_visa",
                 failure_code: str | None = None) -> PaymentAttempt:
    """The session's next attempt (counted on the session) for its total, as the provider left it:
    an intent id (random unless given) and its own 3DS token, which an attempt keeps whatever its
    status. The session's state and coupon are left alone: see start_attempt."""
    checkout.attempt_count += 1
    attempt = PaymentAttempt(
        session_id=checkout.id, number=checkout.attempt_count, provider=provider,
        provider_intent_id=intent_id or "pi_" + secrets.token_hex(12), status=status, amount=checkout.total,
        currency=checkout.currency, payment_method=payment_method, action_token=new_token(24), failure_code=failure_code,
    )
    db.add(attempt)
    db.flush()
    return attempt


def start_attempt(db, checkout: CheckoutSession, *, provider: str = "test") -> PaymentAttempt:
    """The next attempt as initiate_payment leaves it: counted, the coupon reserved, the session
    processing. (The state is set directly: this is set-up, not the path under test.)"""
    if checkout.coupon_id is not None and not checkout.coupon_reserved:
        assert reserve_redemption(db, checkout.coupon_id)
        db.add(CouponHold(checkout_session_id=checkout.id, coupon_id=checkout.coupon_id))
        checkout.coupon_reserved = True
    attempt = make_attempt(db, checkout, provider=provider)
    checkout.state = CheckoutState.PROCESSING
    db.flush()
    return attempt


def make_customer(db, store: Store, *, email: str = "buyer@example.com", name: str | None = "Bea Buyer",
                  created_at: datetime | None = None) -> Customer:
    customer = Customer(store_id=store.id, email=email.lower(), name=name, created_at=created_at or utcnow())
    db.add(customer)
    db.flush()
    return customer


def make_payment(db, store: Store, *, amount: int = 2500, currency: str = "USD", created_at: datetime | None = None,
                 status: PaymentStatus = PaymentStatus.SUCCEEDED, email: str | None = "buyer@example.com",
                 customer: Customer | None = None, session: CheckoutSession | None = None, page_id: int | None = None,
                 refunded: int = 0, needs_review: bool = False, review_reason: str | None = None) -> Payment:
    """A payment row with the platform's 2.9 % fee (half up); no ledger rows (see credit_payment)."""
    fee = (amount * 29 + 500) // 1000
    payment = Payment(
        store_id=store.id, session_id=session.id if session else None, customer_id=customer.id if customer else None,
        page_id=page_id if page_id is not None else (session.page_id if session else None),
        amount=amount, fee=fee, net=amount - fee, currency=currency, amount_refunded=refunded, status=status,
        provider="test", provider_payment_id="pi_" + secrets.token_hex(12), email=email, needs_review=needs_review,
        review_reason=review_reason, created_at=created_at or utcnow(),
    )
    db.add(payment)
    db.flush()
    return payment


def make_refund(db, payment: Payment, *, amount: int = 100, reason: RefundReason = RefundReason.REQUESTED_BY_CUSTOMER) -> Refund:
    """A succeeded refund row, with the payment's refunded total and status moved; no ledger row."""
    refund = Refund(payment_id=payment.id, store_id=payment.store_id, amount=amount, currency=payment.currency,
                    reason=reason, status=RefundStatus.SUCCEEDED, provider_refund_id="re_" + secrets.token_hex(12),
                    succeeded_at=utcnow())
    payment.amount_refunded += amount
    payment.status = PaymentStatus.REFUNDED if payment.amount_refunded == payment.amount else PaymentStatus.PARTIALLY_REFUNDED
    db.add(refund)
    db.flush()
    return refund


def add_ledger_entry(db, store: Store, currency: str, kind: TransactionType, amount: int, *, at: datetime | None = None,
                     payment: Payment | None = None, payout: Payout | None = None) -> BalanceTransaction:
    """Append one ledger row and move the balance head, as payments.ledger does."""
    head = db.get(StoreBalance, (store.id, currency))
    if head is None:
        head = StoreBalance(store_id=store.id, currency=currency, available=0, last_sequence=0, payment_count=0,
                            payment_volume=0)
        db.add(head)
    head.available += amount
    head.last_sequence += 1
    if kind is TransactionType.PAYMENT:
        head.payment_count += 1
        head.payment_volume += amount
    entry = BalanceTransaction(
        store_id=store.id, currency=currency, type=kind, amount=amount, balance_after=head.available,
        sequence=head.last_sequence, payment_id=payment.id if payment else None,
        payout_id=payout.id if payout else None, created_at=at or utcnow(),
    )
    db.add(entry)
    db.flush()
    return entry


def credit_payment(db, store: Store, payment: Payment, *, at: datetime | None = None) -> None:
    """The two ledger rows of a payment: +amount, −fee."""
    at = at or payment.created_at
    add_ledger_entry(db, store, payment.currency, TransactionType.PAYMENT, payment.amount, at=at, payment=payment)
    add_ledger_entry(db, store, payment.currency, TransactionType.FEE, -payment.fee, at=at, payment=payment)


# ---------------------------------------------------------------- notifications


def make_email(db, **overrides) -> EmailMessage:
    """An outbox row written directly, without enqueueing its task (as if that task was lost)."""
    values = dict(kind="test_message", to_address="ada@example.com", subject="Hello", text_body="Hello Ada")
    message = EmailMessage(**{**values, **overrides})
    db.add(message)
    db.flush()
    return message


# ---------------------------------------------------------------- scenarios used across packages


@dataclass
class Shop:
    """A page a shopper can buy, and the ids of its one variant and that variant's options."""

    page: Page
    size: int
    small: int
    large: int


def make_shop(db, store: Store, *, amount: int = 2000, slug: str = "tee", description: str = "Soft organic cotton.",
              success_url: str | None = "https://shop.example/thanks", publish: bool = True, allow_coupons: bool = True) -> Shop:
    """A "T-shirt" (amount minor units) with a Size variant (S +0, L +500), a required text field
    `company` and an optional select `color` (Red, Blue); published unless told otherwise."""
    page = make_page(db, store, title="T-shirt", slug=slug, description=description, amount=amount,
                     allow_coupons=allow_coupons, success_url=success_url)
    size = make_variant(db, page, name="Size", options={"S": 0, "L": 500})
    make_field(db, page, label="Company", key="company", required=True)
    make_field(db, page, label="Color", key="color", type="select", options=["Red", "Blue"])
    if publish:
        publish_page(db, page)
    db.flush()
    small, large = size.options
    return Shop(page=page, size=size.id, small=small.id, large=large.id)


def make_catalog(db, store: Store) -> dict:
    """One of everything a store owns: a page with a variant, an option, a field and an embed, a
    coupon, and a checkout session with its payment and customer. Returns the ids by path argument name."""
    page = make_page(db, store, title=f"{store.name} page", amount=1000)
    variant = make_variant(db, page, options={"Large": 100})
    field = make_field(db, page)
    embed = make_embed(db, page)
    coupon = make_coupon(db, store, code=f"SAVE{store.id}")
    customer = make_customer(db, store)
    checkout = make_checkout(db, page)
    payment = make_payment(db, store, session=checkout, customer=customer)
    refund = make_refund(db, payment)
    endpoint = make_webhook_endpoint(db, store)
    delivery = make_webhook_delivery(db, endpoint)
    payout = make_payout(db, store)
    return {"page_id": page.id, "variant_id": variant.id, "option_id": variant.options[0].id, "field_id": field.id,
            "embed_id": embed.id, "coupon_id": coupon.id, "payment_id": payment.id, "session_id": checkout.id,
            "customer_id": customer.id, "refund_id": refund.id, "endpoint_id": endpoint.id, "delivery_id": delivery.id,
            "payout_id": payout.id}



def make_payout(db, store: Store, *, amount: int = 1500, currency: str = "USD",
                status: PayoutStatus = PayoutStatus.PAID) -> Payout:
    """A settled payout row as the payout task leaves it (no ledger rows: see payments.payouts
    for the real flow)."""
    payout = Payout(store_id=store.id, amount=amount, currency=currency, status=status, provider="test",
                    provider_payout_id=f"po_test_factory{store.id}", attempts=1, due_at=utcnow(),
                    requested_at=utcnow(), paid_at=utcnow() if status is PayoutStatus.PAID else None)
    db.add(payout)
    db.flush()
    return payout


# ---------------------------------------------------------------- merchant webhooks

#: A loopback port nothing listens on: a delivery to it fails at once and never leaves the machine.
UNREACHABLE_WEBHOOK_URL = "http://127.0.0.1:9/hooks"


def make_webhook_endpoint(db, store: Store, *, url: str = UNREACHABLE_WEBHOOK_URL,
                          events: tuple[str, ...] = ("payment.completed",), description: str = "") -> WebhookEndpoint:
    """An enabled endpoint made by the service (its secret is thrown away)."""
    endpoint, _ = webhook_services.create_endpoint(db, store, url=url, events=list(events), description=description)
    return endpoint


def make_webhook_delivery(db, endpoint: WebhookEndpoint, *, status: DeliveryStatus = DeliveryStatus.FAILED,
                          type: str = "payment.completed", created_at: datetime | None = None) -> WebhookDelivery:
    """An event and its delivery to `endpoint` as the engine leaves them, written directly (no
    task is enqueued): failed after six attempts by default."""
    at = created_at or utcnow()
    event = WebhookEvent(id=webhook_services.new_event_id(), store_id=endpoint.store_id, type=type,
                         data={"id": 1}, created_at=at)
    settled = status is not DeliveryStatus.PENDING
    delivery = WebhookDelivery(event=event, endpoint_id=endpoint.id, status=status, attempts=6 if settled else 0,
                               next_attempt_at=at, created_at=at, completed_at=at if settled else None,
                               last_status_code=500 if status is DeliveryStatus.FAILED else None)
    db.add_all([event, delivery])
    db.flush()
    return delivery


# ---------------------------------------------------------------- the cake scenario (issue 10, item 1)

#: What the shopper writes in the cake's custom fields.
CAKE_ANSWERS = {"pickup_date": "2026-12-20", "message": "Happy 30th, Bob!"}


def make_cake(db, store: Store) -> Page:
    """A published "Birthday cake" at 30.00 with two variants (Size: Small +0, Large +5.00;
    Filling: Chocolate +0, Lemon +2.00), two required fields (a date "Pick-up date", key
    `pickup_date`; a textarea "Message", key `message`) and a 10 % coupon `BDAY10`."""
    page = make_page(db, store, title="Birthday cake", slug="cake", amount=3000,
                     variants={"Size": {"Small": 0, "Large": 500}, "Filling": {"Chocolate": 0, "Lemon": 200}})
    make_field(db, page, label="Pick-up date", type="date", key="pickup_date", required=True)
    make_field(db, page, label="Message", type="textarea", key="message", required=True)
    make_coupon(db, store, code="BDAY10")
    publish_page(db, page)
    db.flush()
    return page


def cake_choice(page: Page, size: str = "Large", filling: str = "Lemon") -> dict[str, int]:
    """{variant id: option id} for a size and a filling of the cake."""
    return _chosen_options(page, {"Size": size, "Filling": filling})


def paid_cake(db, page: Page) -> Payment:
    """The cake bought through the services (Large, Lemon, both answers, BDAY10) and paid: the
    provider's success applied by payments.outcomes, as the webhook intake does."""
    checkout = open_checkout(db, page, email="bea@example.com", name="Bea Buyer", variant_options=cake_choice(page),
                             custom_fields=CAKE_ANSWERS, coupon_code="BDAY10")
    attempt = start_attempt(db, checkout)
    payment = payment_succeeded(db, provider=attempt.provider, intent_id=attempt.provider_intent_id,
                                amount=attempt.amount, currency="usd", metadata={})
    assert payment is not None
    return payment
