"""JSON shapes of a store's payment settings (camelCase on the wire). Never a secret: the secret
key is shown as its hint and the webhook secret as whether it is set.

The input schema checks types and sizes only; the key shapes and how they fit together belong to
checkie.stores.payment_settings, which answers 422 with the same field names."""
from __future__ import annotations

from marshmallow import fields, validate

from checkie.api.schemas import CamelSchema, StrictBoolean
from checkie.stores.payment_settings import PROVIDER_CHOICES, PaymentSettings

_PROVIDERS = ["test", "stripe"]
_MODES = ["test", "live"]
#: Longer than any key the service accepts: an overlong value is refused here, a wrong shape there.
_MAX_KEY = 300


class PaymentSettingsSchema(CamelSchema):
    provider = fields.String(
        required=True, validate=validate.OneOf(_PROVIDERS),
        metadata={"description": "The provider new payments go through now: the store's choice or the platform's default."},
    )
    choice = fields.String(
        required=True, validate=validate.OneOf(PROVIDER_CHOICES),
        metadata={"description": "The store's choice; `default` follows the platform's PAYMENT_PROVIDER."},
    )
    mode = fields.String(
        required=True, validate=validate.OneOf(_MODES),
        metadata={"description": "`live` when payments take real money (Stripe with `sk_live_` keys), else `test`."},
    )
    publishable_key = fields.String(required=True, allow_none=True, metadata={"description": "The store's own `pk_…` key."})
    secret_key_hint = fields.String(
        required=True, allow_none=True, metadata={"description": "The store's own secret key, masked: `sk_test_…abcd`."},
    )
    webhook_secret_set = fields.Boolean(required=True, metadata={"description": "Whether the store saved a webhook secret."})
    webhook_url = fields.String(
        required=True, metadata={"description": "Where the store's Stripe account must send its events."},
    )


class PaymentSettingsUpdateSchema(CamelSchema):
    provider = fields.String(
        validate=validate.Length(max=20),
        metadata={"description": "`default`, `test` (where the platform enables it) or `stripe` (needs keys)."},
    )
    publishable_key = fields.String(
        allow_none=True, validate=validate.Length(max=_MAX_KEY),
        metadata={"description": "`pk_test_…` or `pk_live_…`; absent, null or \"\" keeps the saved one."},
    )
    secret_key = fields.String(
        allow_none=True, validate=validate.Length(max=_MAX_KEY),
        metadata={"description": "`sk_…` or `rk_…` of the same mode; stored encrypted, never shown again. "
                                 "Absent, null or \"\" keeps the saved one."},
    )
    webhook_secret = fields.String(
        allow_none=True, validate=validate.Length(max=_MAX_KEY),
        metadata={"description": "The `whsec_…` signing secret of the Stripe endpoint; stored encrypted."},
    )
    remove_stripe_keys = StrictBoolean(
        metadata={"description": "Forget the store's own keys (Stripe payments then use the platform's, if any)."},
    )


class ConnectionCheckSchema(CamelSchema):
    connected = fields.Boolean(required=True, metadata={"enum": [True]})
    mode = fields.String(required=True, validate=validate.OneOf(_MODES),
                         metadata={"description": "What Stripe says the saved secret key is."})


def payment_settings_view(settings: PaymentSettings, webhook_url: str) -> dict:
    return {
        "provider": settings.provider, "choice": settings.choice, "mode": settings.mode,
        "publishable_key": settings.publishable_key, "secret_key_hint": settings.secret_key_hint,
        "webhook_secret_set": settings.webhook_secret_set, "webhook_url": webhook_url,
    }
