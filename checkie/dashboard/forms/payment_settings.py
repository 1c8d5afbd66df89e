"""The forms of the payment settings screen. The rules (key shapes, test and live keys not mixed,
the webhook secret with own keys, Stripe only with keys) live in checkie.stores.payment_settings,
whose field errors carry these fields' names. The key inputs never show a saved value: a blank
one keeps what is saved, so the page never sends a secret back to the browser."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import Length

#: Longer than any key the service accepts (its patterns stop at 250 characters), so an
#: overlong paste is refused here and the service's message stays about the key's shape.
_MAX_KEY = 300

_DEFAULT_LABEL = "Platform default"
_PROVIDER_LABELS = {"test": "Test provider (no real money)", "stripe": "Stripe"}


class PaymentSettingsForm(FlaskForm):
    provider = SelectField("Payment provider", validate_choice=False)
    publishable_key = StringField("Publishable key", validators=[Length(max=_MAX_KEY)])
    # PasswordField never renders its value, and so never echoes a pasted secret after an error.
    secret_key = PasswordField("Secret key", validators=[Length(max=_MAX_KEY)])
    webhook_secret = PasswordField("Webhook signing secret", validators=[Length(max=_MAX_KEY)])
    remove_stripe_keys = BooleanField("Remove the store's own Stripe keys")


def payment_settings_form(choice: str, *, platform_provider: str, test_provider_available: bool,
                          blank: bool = False) -> PaymentSettingsForm:
    """The form with the provider choices this platform offers and the store's choice selected;
    `blank` for a GET (nothing read from the request). The test provider is offered only where it
    is enabled, or to a store that still has it chosen: saving then says why it must change,
    rather than a select silently switching it to another provider."""
    form = PaymentSettingsForm(data={"provider": choice}, **({"formdata": None} if blank else {}))
    names = [name for name in ("default", "test", "stripe")
             if name != "test" or test_provider_available or choice == "test"]
    default_label = f"{_DEFAULT_LABEL} ({_PROVIDER_LABELS.get(platform_provider, platform_provider)})"
    form.provider.choices = [SelectChoice(name, default_label if name == "default" else _PROVIDER_LABELS[name])
                             for name in names]
    return form
