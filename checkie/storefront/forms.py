"""Forms of the checkout (hosted and framed): the shopper's details (with the page's own controls), the
test-mode card form, and in Stripe mode the card token Stripe.js made.

A page's variants and custom fields are not known until the page is, so their controls are
read from the submitted data by name (`variant_<id>`, `field_<key>`, as in
templates/storefront/_page_summary.html); the fixed fields and the CSRF token are WTForms, their ids
prefixed `checkout-` as the page's controls are. The fields are named after
`checkout.services.update_checkout`'s arguments, so its errors land beside them
(`checkie.form_errors.copy_errors`); the answers' subform gives each custom field's errors a place."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, FormField, HiddenField, StringField
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from checkie.catalog.models import FieldType, Page
from checkie.catalog.snapshot import PageView
from checkie.database import utcnow
from checkie.providers.test import map_test_card

#: An expiry as shoppers type it: "12/30", "12 / 2030", "1/30", or digits only ("1230", "122030",
#: from a phone's numeric keypad, which has no "/").
_EXPIRY = re.compile(r"^(?:(0?[1-9]|1[0-2])\s*[/-]\s*|(0[1-9]|1[0-2])\s*)(\d{2}|\d{4})$")
#: What Stripe answers for a card past its expiry (`expired_card`).
EXPIRED_CARD = "Your card has expired."


class DetailsForm(FlaskForm):
    """What the shopper types; `coupon_action` says whether the coupon box was used (apply or
    remove): the coupon changes only then, never as a side effect of saving other details."""

    email = EmailField("Email", id="checkout-email", validators=[Optional(), Length(max=254)])
    name = StringField("Name", id="checkout-name", validators=[Optional(), Length(max=200)])
    coupon_code = StringField("Coupon code", id="checkout-coupon_code", validators=[Optional(), Length(max=50)])
    coupon_action = HiddenField()

    def changes(self, page: Page | PageView, data: MultiDict) -> dict:
        """Keyword arguments for checkout.services.update_checkout; `data` is the posted form."""
        changes: dict = {
            "email": (self.email.data or "").strip() or None,
            "name": (self.name.data or "").strip() or None,
            "variant_options": variant_choices(page, data),
            "custom_fields": field_answers(page, data),
        }
        if self.coupon_action.data == "apply":
            changes["coupon_code"] = (self.coupon_code.data or "").strip() or None
        elif self.coupon_action.data == "remove":
            changes["coupon_code"] = None
        return changes

    @staticmethod
    def for_page(page: Page | PageView, **kwargs) -> DetailsForm:
        """The form with the page's custom fields as the subform `custom_fields`, whose controls
        keep the page's names (`field_<key>`)."""
        keys = [field.key for field in page.custom_fields]

        class PageDetailsForm(DetailsForm):
            custom_fields = FormField(partial(_Answers, keys), name="field", separator="_")

        return PageDetailsForm(**kwargs)


class _Answers(BaseForm):
    """One control per custom field, by key. A BaseForm holds its fields by name only, so a key
    such as `data` or `errors` cannot hide an attribute of the form, as a Form's would."""

    def __init__(self, keys: list[str], formdata=None, prefix: str = "", **kwargs):
        super().__init__([(key, StringField()) for key in keys], prefix=prefix)
        self.process(formdata)


class CardForm(FlaskForm):
    """The TEST MODE card form: only Stripe's test numbers are accepted (checkie.providers.test
    maps them to payment methods); the expiry must be this month or later, the CVC is checked
    for shape only. Numbers and expiries are accepted as typed or pasted, with or without the
    spaces and "/" that static/js/checkout.js inserts."""

    card_number = StringField("Card number", id="checkout-card_number", validators=[DataRequired("Enter the card number.")])
    card_expiry = StringField("Expiry (MM/YY)", id="checkout-card_expiry", validators=[DataRequired("Enter the expiry date.")])
    card_cvc = StringField(
        "CVC", id="checkout-card_cvc",
        validators=[DataRequired("Enter the CVC."), Regexp(r"^\s*\d{3,4}\s*$", message="Enter the 3 or 4 digits.")],
    )
    #: Set by validation: the test provider's payment method for the number.
    payment_method: str | None = None

    def validate_card_number(self, field: StringField) -> None:
        method = test_payment_method(field.data or "")
        if method is None:
            raise ValidationError(
                "This card number is not accepted in test mode. Use a test card such as 4242 4242 4242 4242."
            )
        self.payment_method = method

    def validate_card_expiry(self, field: StringField) -> None:
        """A card that expired before this month is refused here, as Stripe's test mode declines
        it (`expired_card`), so no payment attempt is made."""
        expiry = parse_expiry(field.data or "")
        if expiry is None:
            raise ValidationError("Enter the expiry as MM/YY.")
        today = utcnow()
        if expiry < (today.year, today.month):
            raise ValidationError(EXPIRED_CARD)


class StripeCardForm(FlaskForm):
    """Stripe mode: the shopper types the card into Stripe.js's card Element, and
    static/js/stripe-card.js posts only the token Stripe.js made of it (`tok_…`; a PaymentMethod
    id `pm_…` too) as `payment_method`. Card number fields posted anyway are never read: a card
    number does not reach Checkie. `accepts` is the store's provider's own check of the value."""

    token = HiddenField(name="payment_method", id="checkout-payment_method",
                        validators=[DataRequired("Enter your card details.")])
    #: Set by validation: the token or PaymentMethod id to pay with.
    payment_method: str | None = None

    def __init__(self, *args, accepts: Callable[[str], bool], **kwargs):
        super().__init__(*args, **kwargs)
        self._accepts = accepts

    def validate_token(self, field: HiddenField) -> None:
        value = (field.data or "").strip()
        if not self._accepts(value):
            # Never echo the value: it may be a card number typed where it does not belong.
            raise ValidationError("Your card details could not be read. Please enter them again.")
        self.payment_method = value


#: Either card form: what the checkout's Pay reads the payment method from (`payment_method`).
AnyCardForm = CardForm | StripeCardForm


def parse_expiry(text: str) -> tuple[int, int] | None:
    """(year, month) of an expiry typed as "12/30", "12 / 2030" or "1230"; None when it is not one."""
    match = _EXPIRY.match(text.strip())
    if match is None:
        return None
    month, year = int(match[1] or match[2]), int(match[3])
    return (2000 + year if year < 100 else year), month


def test_payment_method(number: str) -> str | None:
    """The test provider's payment method for a card number ("4242 4242-4242 4242" too), None
    when it is not one of the test cards."""
    digits = re.sub(r"[\s-]", "", number)
    return map_test_card(digits) if digits.isdigit() else None


def variant_choices(page: Page | PageView, data: MultiDict) -> dict[str, int]:
    """{"<variant id>": option id} for the variants the shopper picked; an unknown option id is
    passed on as it is, so the service refuses it with its own message."""
    choices: dict[str, int] = {}
    for variant in page.variants:
        raw = (data.get(f"variant_{variant.id}") or "").strip()
        if raw.isdigit():
            choices[str(variant.id)] = int(raw)
    return choices


def field_answers(page: Page | PageView, data: MultiDict) -> dict[str, object]:
    """{field key: answer} as typed; an unticked checkbox is sent by browsers as nothing."""
    answers: dict[str, object] = {}
    for field in page.custom_fields:
        name = f"field_{field.key}"
        if field.type == FieldType.CHECKBOX:
            answers[field.key] = name in data
        elif name in data:
            answers[field.key] = data.get(name, "")
    return answers
