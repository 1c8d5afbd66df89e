"""The payment provider protocol (SPEC §5): what checkout and the webhook intake ask of a PSP.

Amounts are minor units, currencies lower case as PSPs send them, and every intent carries
`metadata = {"checkout_session_id": "cs_…", "store_id": "<id>"}`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from checkie.errors import DomainError

IntentStatus = Literal["succeeded", "requires_action", "failed"]
PayoutStatus = Literal["paid", "failed"]
#: Test money or real money (Stripe's test-mode and live-mode keys; the test provider is always test).
Mode = Literal["test", "live"]


class InvalidSignature(DomainError):
    """A webhook whose signature is missing, wrong or too old: answered 400, nothing stored."""

    status = 400
    code = "invalid_signature"


class InvalidPayload(DomainError):
    """A correctly signed webhook body that is not a PSP event (not JSON, no id or type)."""

    status = 400
    code = "invalid_payload"


class ProviderNotConfigured(DomainError):
    """The platform is asked for a provider it cannot use yet (no keys, or not built)."""

    status = 400
    code = "provider_not_configured"


class ProviderError(DomainError):
    """The PSP refused a request for a reason other than the card (bad keys, a parameter it does
    not take, an outage): Checkie's or the platform's problem, never the shopper's decline."""

    status = 502
    code = "provider_error"


@dataclass(frozen=True)
class IntentEvent:
    """What a PSP event says about one payment intent, checked for shape before anything is stored."""

    type: str
    intent_id: str
    #: Minor units, as PSPs send them; currency lower case.
    amount: int
    currency: str
    metadata: dict[str, str]
    failure_code: str | None = None
    failure_message: str | None = None
    next_action_url: str | None = None


@dataclass(frozen=True)
class IntentResult:
    """The provider's synchronous answer to creating (and confirming) a payment intent."""

    intent_id: str
    status: IntentStatus
    client_secret: str | None = None
    #: Where the shopper authenticates while `requires_action` (the test provider's 3DS page).
    next_action_url: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    #: The unguessable token that addresses the authentication step in `next_action_url`, when
    #: Checkie serves that step itself (the test provider's 3DS page).
    action_token: str | None = None
    #: Events about this intent that the platform must deliver to its own webhook intake, durably
    #: (the test provider's; a real PSP sends its own).
    events: tuple[dict, ...] = ()
    #: The reusable payment method and the PSP customer it was saved to, when the provider made
    #: them from a single-use card token (Stripe.js): what a subscription's renewals charge.
    payment_method: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """The provider's synchronous answer to a refund (minor units were given in the request)."""

    refund_id: str
    status: Literal["succeeded", "failed"]
    failure_code: str | None = None


@dataclass(frozen=True)
class PayoutResult:
    """The provider's answer to a payout: the same one again for a repeated idempotency key."""

    payout_id: str
    status: PayoutStatus
    failure_code: str | None = None


class PaymentProvider(Protocol):
    name: str
    #: What to tell a client whose payment method `accepts_payment_method` refused.
    payment_method_hint: str

    def accepts_payment_method(self, payment_method: str | None) -> bool:
        """Whether an intent may be created with `payment_method` (checked before anything is stored)."""
        ...

    def create_payment_intent(self, *, amount: int, currency: str, metadata: dict, payment_method: str | None) -> IntentResult:
        """Create and confirm an intent for `amount` minor units of `currency`."""
        ...

    def verify_webhook(self, payload: bytes, signature_header: str) -> dict:
        """The event in `payload` once its signature checks out; raises InvalidSignature."""
        ...

    def refund(self, *, payment_intent_id: str, amount: int, currency: str, idempotency_key: str) -> RefundResult:
        """Give back `amount` minor units of `currency` of a captured intent. The same
        `idempotency_key` twice makes one refund (the PSP answers the first one again)."""
        ...

    def create_payout(self, *, amount: int, currency: str, routing_number: str, account_number: str,
                      idempotency_key: str, metadata: dict | None = None) -> PayoutResult:
        """Pay `amount` minor units of `currency` to the bank account. A repeated
        `idempotency_key` answers the first call's result and pays nothing more. `metadata`
        (`{"store_id": …, "payout_id": …}`) goes onto the PSP's payout, whose events name it."""
        ...

    def create_setup_intent(self, *, metadata: dict, payment_method: str | None) -> IntentResult:
        """Confirm `payment_method` for later charges without charging it (a subscription's free
        trial). Answers like an intent of amount 0: succeeded, failed, or requires_action."""
        ...

    def create_customer(self, *, email: str, name: str | None, metadata: dict) -> str:
        """The PSP's customer id for this buyer, whom saved cards and renewals belong to."""
        ...

    def charge_customer(self, *, customer_id: str, payment_method: str, amount: int, currency: str, metadata: dict,
                        idempotency_key: str) -> IntentResult:
        """Charge `amount` minor units of `currency` to a saved card without the customer present
        (a renewal): succeeded or failed, never requires_action. A repeated `idempotency_key`
        answers the first charge again and charges nothing more."""
        ...
