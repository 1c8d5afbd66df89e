"""Factories for the checkout tests: a published page (through the catalog services), an open
session, a session put straight into a state, and a scripted fake payment provider."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from checkie.catalog import fields, variants
from checkie.catalog.coupons import create_coupon
from checkie.catalog.models import Coupon, Page
from checkie.catalog.pages import create_page, publish_page
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutState
from checkie.providers.base import IntentResult
from checkie.stores.models import Store


def make_page(db, store: Store, *, amount: int = 2000, sizes: dict[str, int] | None = None, required_field: bool = False,
              publish: bool = True, allow_coupons: bool = True, **options) -> Page:
    """A page with an optional "Size" variant ({option name: delta}, first one preselected) and
    an optional required text field `company`."""
    page = create_page(db, store, title="T-shirt", amount=amount, allow_coupons=allow_coupons, **options)
    if sizes:
        variant = variants.add_variant(db, page, name="Size")
        for name, delta in sizes.items():
            variants.add_option(db, variant, name=name, price_delta=delta)
    if required_field:
        fields.create_field(db, page, label="Company", key="company", type="text", required=True)
    fields.create_field(db, page, label="Notes", key="notes", type="text", required=False)
    if publish:
        publish_page(db, page)
    db.flush()
    return page


def make_coupon(db, store: Store, *, code: str = "SAVE10", **terms) -> Coupon:
    if "percent_off" not in terms and "amount_off" not in terms:
        terms["percent_off"] = 10
    if "amount_off" in terms:
        terms.setdefault("currency", store.currency)
    return create_coupon(db, store, code=code, **terms)


def open_checkout(db, page: Page, **updates) -> CheckoutSession:
    session = services.open_session(db, page, client_info={"ip": "127.0.0.1"})
    if updates:
        services.update_session(db, session, **updates)
    return session


def payable_checkout(db, page: Page) -> CheckoutSession:
    return open_checkout(db, page, email="shopper@example.com", name="Sam Shopper")


def force_state(db, session: CheckoutSession, state: CheckoutState, *, attempt_count: int = 1) -> CheckoutSession:
    """Test set-up only: put a session in `state` without the table (to walk every pair)."""
    session.state = state
    session.attempt_count = attempt_count
    db.flush()
    return session


_intent_numbers = itertools.count(1)


@dataclass
class FakeProvider:
    """Answers create_payment_intent with the scripted statuses in order (default succeeded)."""

    statuses: list[str] = field(default_factory=list)
    name: str = "test"
    calls: list[dict] = field(default_factory=list)
    payment_method_hint: str = "Any payment method will do."

    def accepts_payment_method(self, payment_method) -> bool:
        return True

    def create_payment_intent(self, *, amount, currency, metadata, payment_method) -> IntentResult:
        self.calls.append({"amount": amount, "currency": currency, "metadata": metadata, "payment_method": payment_method})
        status = self.statuses.pop(0) if self.statuses else "succeeded"
        intent_id = f"pi_fake_{next(_intent_numbers)}"
        if status == "failed":
            return IntentResult(intent_id, "failed", failure_code="card_declined", failure_message="Your card was declined.")
        if status == "requires_action":
            token = f"tok_{intent_id}"
            return IntentResult(intent_id, "requires_action", next_action_url=f"http://localhost/test-provider/3ds/{token}",
                                action_token=token)
        return IntentResult(intent_id, status)
