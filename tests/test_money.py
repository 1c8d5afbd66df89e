"""checkie.money: parsing, formatting, and the discount arithmetic (every rounding edge)."""
from decimal import Decimal

import pytest

from checkie.money import (
    MAX_AMOUNT,
    MoneyError,
    discount_amount,
    discounted_total,
    format_money,
    is_currency,
    percent_of,
    to_major,
    to_minor,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.50", "USD", 1250), ("12.5", "usd", 1250), ("1,000", "USD", 100000), ("0", "EUR", 0),
     ("1250", "JPY", 1250), ("1.250", "BHD", 1250), (" 3 ", "GBP", 300)],
)
def test_to_minor(text, currency, minor):
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(("text", "currency"), [("12.505", "USD"), ("1.5", "JPY"), ("abc", "USD"), ("", "USD"), ("NaN", "USD"), ("inf", "USD")])
def test_to_minor_refuses_what_is_not_an_amount_of_the_currency(text, currency):
    with pytest.raises(MoneyError):
        to_minor(text, currency)


def test_to_major_and_currency_codes():
    assert to_major(1250, "USD") == Decimal("12.50") and to_major(1250, "JPY") == Decimal(1250)
    assert is_currency("usd") and is_currency("JPY") and not is_currency("XXX")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1250, "usd", "$12.50"), (1250, "JPY", "¥1,250"), (1250, "BHD", "1.250 BHD"), (-99, "EUR", "-€0.99"), (0, "CHF", "0.00 CHF")],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


@pytest.mark.parametrize(
    ("amount", "fraction", "result"),
    [(1000, Decimal("0.029"), 29), (1017, Decimal("0.029"), 29), (5000, Decimal("0.029"), 145), (1, Decimal("0.5"), 1), (3, Decimal("0.5"), 2)],
)
def test_percent_of_rounds_half_up_once(amount, fraction, result):
    assert percent_of(amount, fraction) == result


@pytest.mark.parametrize(
    ("subtotal", "percent", "discount"),
    [
        (999, 15, 150),      # 149.85 → 150
        (999, 10, 100),      # 99.9 → 100
        (995, 10, 100),      # 99.5 → 100: half goes up
        (994, 10, 99),       # 99.4 → 99
        (5, 10, 1),          # 0.5 → 1
        (4, 10, 0),          # 0.4 → 0: a tiny order can get no discount at all
        (49, 1, 0),          # 0.49 → 0
        (50, 1, 1),          # 0.5 → 1
        (150, 1, 2),         # 1.5 → 2
        (250, 1, 3),         # 2.5 → 3: half up, not to even (banker's rounding would give 2)
        (101, 33, 33),       # 33.33 → 33
        (3, 50, 2),          # 1.5 → 2
        (1, 50, 1),          # 0.5 → 1: the whole price
        (1, 99, 1),          # 0.99 → 1
        (12345, 100, 12345),
        (0, 15, 0),
        (MAX_AMOUNT + 1, 15, 150_000_000_000),  # 150 000 000 000.15 → down
    ],
)
def test_percent_discount_rounds_half_up_once(subtotal, percent, discount):
    assert discount_amount(subtotal, percent_off=percent) == discount
    assert discounted_total(subtotal, percent_off=percent) == subtotal - discount


def test_percent_discount_of_a_huge_odd_amount_is_exact():
    """Decimal, not float: 37 % of 999 999 999 999 is 369 999 999 999.63, and half of 10**17 + 1
    is …0.5, which a float cannot even represent."""
    assert discount_amount(MAX_AMOUNT - 1, percent_off=37) == 370_000_000_000
    assert discount_amount(10**17 + 1, percent_off=50) == 5 * 10**16 + 1  # 0.5 up, beyond float precision


@pytest.mark.parametrize(
    ("subtotal", "amount_off", "discount", "total"),
    [
        (1000, 250, 250, 750),
        (1000, 1000, 1000, 0),     # exactly the price: free
        (1000, 1001, 1000, 0),     # larger than the price: capped, never a negative total
        (1, 5000, 1, 0),
        (0, 500, 0, 0),
    ],
)
def test_fixed_discount_is_capped_at_the_subtotal(subtotal, amount_off, discount, total):
    assert discount_amount(subtotal, amount_off=amount_off) == discount
    assert discounted_total(subtotal, amount_off=amount_off) == total


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"percent_off": 10, "amount_off": 100}, {"percent_off": 101}, {"percent_off": -1}, {"amount_off": -1}],
)
def test_discount_needs_exactly_one_sane_kind(kwargs):
    with pytest.raises(ValueError):
        discount_amount(1000, **kwargs)


def test_discount_of_a_negative_subtotal_is_refused():
    with pytest.raises(ValueError):
        discount_amount(-1, percent_off=10)
