"""Forms for checkout pages, variants and options.

Money is typed in major units ("12.50") and parsed here with the currency's exponent
(JPY none, BHD three); services receive minor units. The rules themselves (slug uniqueness,
the price floor, what a subscription needs) live in `checkie.catalog`, whose arguments the
fields are named after, so its field errors land beside them.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from checkie.catalog.models import Interval, Page, PageStatus, PricingType
from checkie.catalog.pages import (
    DESCRIPTION_MAX_LENGTH,
    MAX_AMOUNT,
    SLUG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    TRIAL_DAYS_MAX,
    URL_MAX_LENGTH,
)
from checkie.catalog.variants import NAME_MAX_LENGTH
from checkie.money import CURRENCIES, MoneyError, exponent, to_major, to_minor

#: Longer input cannot be a price (ten billion dollars is 17 characters with separators).
MONEY_INPUT_MAX_LENGTH = 24

#: (value, label) pairs for the list's status filter; "" shows every status.
STATUS_FILTERS = [("", "All statuses"), *[(s.value, s.value.capitalize()) for s in PageStatus]]


def parse_money(text: str | None, currency: str, *, allow_negative: bool = False) -> int:
    """'12.50' in USD → 1250. ValidationError (shown beside the field) for anything else."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Enter an amount, e.g. 0 or 12.50.")
    if len(text) > MONEY_INPUT_MAX_LENGTH:
        raise ValidationError("That amount is too long; enter something like 12.50.")
    try:
        minor = to_minor(text, currency)
    except MoneyError as error:
        if exponent(currency) == 0 and "decimal" in str(error):
            raise ValidationError(f"{currency} has no minor unit: enter a whole number, e.g. 1200.") from None
        raise ValidationError(str(error)) from None
    if minor < 0 and not allow_negative:
        raise ValidationError("Enter zero or more.")
    if abs(minor) > MAX_AMOUNT:
        raise ValidationError("That amount is too large.")
    return minor


def major_text(amount: int, currency: str) -> str:
    """1250 USD → '12.50'; 1200 JPY → '1200' (what the money inputs show)."""
    return str(to_major(amount, currency))


class PageForm(FlaskForm):
    """Create or edit a page. Subscription settings are ignored (cleared) for one-time pages."""

    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    slug = StringField("Address (slug)", validators=[Optional(), Length(max=SLUG_MAX_LENGTH)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX_LENGTH)])
    pricing_type = RadioField("Pricing", choices=[
        SelectChoice(PricingType.ONE_TIME.value, "One-time payment"),
        SelectChoice(PricingType.SUBSCRIPTION.value, "Subscription"),
    ], default=PricingType.ONE_TIME.value)
    currency = SelectField("Currency", choices=[SelectChoice(code) for code in CURRENCIES])
    amount = StringField("Price", validators=[InputRequired()])
    interval = SelectField("Period", choices=[SelectChoice("", "Choose…"), *[SelectChoice(i.value, i.value) for i in Interval]],
                           validators=[Optional()])
    interval_count = IntegerField("Bill every", default=1, validators=[Optional(), NumberRange(min=1, max=365)])
    trial_days = IntegerField("Free trial (days)", default=0, validators=[Optional(), NumberRange(min=0, max=TRIAL_DAYS_MAX)])
    success_url = StringField("Success URL", validators=[Optional(), Length(max=URL_MAX_LENGTH)])
    allow_coupons = BooleanField("Accept coupon codes")

    #: Minor units, set by validation.
    amount_minor: int = 0

    @classmethod
    def for_page(cls, page: Page) -> PageForm:
        """The edit form filled from `page` (money in major units)."""
        form = cls(formdata=None, obj=page)
        form.amount.data = major_text(page.amount, page.currency)
        form.pricing_type.data = page.pricing_type.value
        form.interval.data = page.interval.value if page.interval else ""
        return form

    def validate_amount(self, field) -> None:
        currency = self.currency.data if self.currency.data in CURRENCIES else "USD"
        self.amount_minor = parse_money(field.data, currency)

    def changes(self) -> dict:
        """Keyword arguments for `pages.create_page` / `update_page`."""
        subscription = self.pricing_type.data == PricingType.SUBSCRIPTION.value
        return {
            "title": self.title.data, "slug": (self.slug.data or "").strip() or None,
            "description": self.description.data or "", "pricing_type": self.pricing_type.data,
            "amount": self.amount_minor, "currency": self.currency.data,
            "interval": (self.interval.data or None) if subscription else None,
            "interval_count": (self.interval_count.data or 1) if subscription else 1,
            "trial_days": (self.trial_days.data or 0) if subscription else 0,
            "success_url": self.success_url.data or None, "allow_coupons": bool(self.allow_coupons.data),
        }


class VariantForm(FlaskForm):
    """Add or rename a variant; each variant's form has its own prefix so many share a screen."""

    name = StringField("Variant name", validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])


class OptionForm(FlaskForm):
    """Add or edit an option: a name and a price change in major units of the page currency
    (optional: left empty, the option costs what the page does)."""

    name = StringField("Option name", validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    price_delta = StringField("Price change", default="0")

    #: Minor units, set by validation.
    delta_minor: int = 0

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def validate_price_delta(self, field) -> None:
        if not (field.data or "").strip():
            self.delta_minor = 0
            return
        self.delta_minor = parse_money(field.data, self.currency, allow_negative=True)


class MoveForm(FlaskForm):
    """Up/down buttons (`direction` is the pressed button's value)."""

    direction = SelectField(choices=[SelectChoice("up"), SelectChoice("down")], validators=[DataRequired()])

    @property
    def offset(self) -> int:
        return -1 if self.direction.data == "up" else 1
