"""Money is an integer number of minor units plus an ISO-4217 code. Decimal lives only here."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: Supported currencies and their minor-unit exponent (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CHF": 2, "SEK": 2,
    "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2, "MXN": 2,
    "BRL": 2, "INR": 2, "SGD": 2, "HKD": 2, "ZAR": 2, "ILS": 2, "TRY": 2, "AED": 2,
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}
CURRENCIES = tuple(sorted(CURRENCY_EXPONENTS))

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩"}


class MoneyError(ValueError):
    """Input that is not an amount of the given currency."""


def is_currency(code: str) -> bool:
    return code.upper() in CURRENCY_EXPONENTS


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS[currency.upper()]


def to_minor(text: str, currency: str) -> int:
    """'12.50' USD → 1250. Refuses more decimals than the currency has (JPY none, BHD three)."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise MoneyError("Enter an amount like 12.50") from None
    if not value.is_finite():
        raise MoneyError("Enter an amount like 12.50")
    places = exponent(currency)
    try:
        scaled = value.scaleb(places)
        fractional = scaled != scaled.to_integral_value()
    except ArithmeticError:  # "1e999999999": beyond what Decimal's context can scale
        raise MoneyError("That amount is too large.") from None
    if fractional:
        raise MoneyError(f"{currency.upper()} amounts have at most {places} decimal places")
    return int(scaled)


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def percent_of(amount: int, fraction: Decimal) -> int:
    """`amount × fraction` in minor units, rounded half up once (fees, percentage discounts)."""
    return int((Decimal(amount) * fraction).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(amount: int, currency: str) -> str:
    """1250, 'usd' → '$12.50'; 1250, 'JPY' → '¥1,250'; 1250, 'BHD' → '1.250 BHD'."""
    code = currency.upper()
    places = exponent(code)
    major = to_major(abs(amount), code)
    number = f"{major:,.{places}f}"
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


#: The largest amount (minor units) Checkie accepts anywhere: far above any real price, far below
#: BIGINT, so sums of many amounts cannot overflow either.
MAX_AMOUNT = 10**12


def discount_amount(subtotal: int, *, percent_off: int | None = None, amount_off: int | None = None) -> int:
    """The discount on `subtotal` (minor units), never more than the subtotal itself.

    Exactly one of `percent_off` (1–100, of the subtotal, rounded half up once: 15 % of 999 is
    149.85 → 150) or `amount_off` (minor units of the same currency; larger than the subtotal it
    takes the subtotal to 0) must be given."""
    if subtotal < 0:
        raise ValueError("subtotal must not be negative")
    if (percent_off is None) == (amount_off is None):
        raise ValueError("give exactly one of percent_off or amount_off")
    if percent_off is not None:
        if not 0 <= percent_off <= 100:
            raise ValueError("percent_off must be between 0 and 100")
        return percent_of(subtotal, Decimal(percent_off) / 100)
    assert amount_off is not None  # exactly one of the two was given (checked above)
    if amount_off < 0:
        raise ValueError("amount_off must not be negative")
    return min(amount_off, subtotal)


def discounted_total(subtotal: int, *, percent_off: int | None = None, amount_off: int | None = None) -> int:
    """`subtotal` minus its discount: 0 at the least, never negative."""
    return subtotal - discount_amount(subtotal, percent_off=percent_off, amount_off=amount_off)
