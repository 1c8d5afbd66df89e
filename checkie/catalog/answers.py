"""Shopper answers to a page's custom fields: `validate_answers` checks and cleans them on the
server, for every field type. Checkout calls it when a session is updated and before payment.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

from checkie.catalog.models import CustomField, FieldType, Page
from checkie.catalog.snapshot import FieldView, PageView
from checkie.email_addresses import EmailNotValidError, normalized_email
from checkie.errors import ValidationFailed

TEXT_MAX_LENGTH = 500
TEXTAREA_MAX_LENGTH = 5000
EMAIL_MAX_LENGTH = 254
URL_MAX_LENGTH = 2048
#: Numbers are kept exact: at most 15 digits before the decimal point and 6 after.
NUMBER_MAX_ABS = Decimal(10) ** 15
NUMBER_MAX_PLACES = 6
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)
_PHONE = re.compile(r"^\+?[0-9 ()\-]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = frozenset({"true", "on", "yes", "1", "y"})
_FALSE = frozenset({"false", "off", "no", "0", "n", ""})
REQUIRED_MESSAGE = "This field is required."


class _Invalid(ValueError):
    """One answer is wrong; the message is shown beside the field."""


def _as_text(value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise _Invalid("Enter text.")
    value = value.strip()
    if "\x00" in value:  # PostgreSQL's JSONB cannot store it
        raise _Invalid("Enter text without control characters.")
    if len(value) > max_length:
        raise _Invalid(f"Use at most {max_length} characters.")
    return value


def _clean_number(value: object, field: CustomField | FieldView) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _Invalid("Enter a number.")
    if isinstance(value, str):
        if not _DECIMAL.match(value.strip()):
            raise _Invalid("Enter a number, like 42 or 3.5.")
        number = Decimal(value.strip())
    else:
        number = Decimal(str(value))  # str() of a float is its shortest exact-looking form
    if not number.is_finite() or abs(number) >= NUMBER_MAX_ABS:
        raise _Invalid("Use at most 15 digits before the decimal point.")
    number = number.normalize()
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number's is (not 'n' or 'F')
    if exponent < -NUMBER_MAX_PLACES:
        raise _Invalid(f"Use at most {NUMBER_MAX_PLACES} decimal places.")
    return "0" if number == 0 else format(number, "f")


def _clean_email(value: object, field: CustomField | FieldView) -> str:
    text = _as_text(value, EMAIL_MAX_LENGTH)
    try:
        return normalized_email(text)
    except EmailNotValidError:
        raise _Invalid("Enter a valid email address.") from None


def _clean_phone(value: object, field: CustomField | FieldView) -> str:
    text = " ".join(_as_text(value, 40).split())
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE.match(text) or not 7 <= digits <= 20:
        raise _Invalid("Enter a phone number: 7 to 20 digits, with spaces, +, ( ) or - if you like.")
    return text


def _clean_url(value: object, field: CustomField | FieldView) -> str:
    text = _as_text(value, URL_MAX_LENGTH)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        parts = None
    valid = parts is not None and parts.scheme.lower() in ("http", "https") and parts.hostname
    if not valid or any(c.isspace() for c in text):
        raise _Invalid("Enter a web address starting with http:// or https://.")
    return text


def _clean_select(value: object, field: CustomField | FieldView) -> str:
    if not isinstance(value, str):
        raise _Invalid("Enter text.")
    if value.strip() not in (field.options or []):
        raise _Invalid("Choose one of the options.")
    return value.strip()


def _clean_checkbox(value: object, field: CustomField | FieldView) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid("Tick the box or leave it empty.")


def _clean_date(value: object, field: CustomField | FieldView) -> str:
    if isinstance(value, date):
        return value.isoformat()
    text = _as_text(value, 10)
    try:
        if not _ISO_DATE.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _Invalid("Enter a date as YYYY-MM-DD.") from None


_CLEANERS = {
    FieldType.TEXT: lambda value, field: _as_text(value, TEXT_MAX_LENGTH),
    FieldType.TEXTAREA: lambda value, field: _as_text(value, TEXTAREA_MAX_LENGTH),
    FieldType.NUMBER: _clean_number,
    FieldType.EMAIL: _clean_email,
    FieldType.PHONE: _clean_phone,
    FieldType.URL: _clean_url,
    FieldType.SELECT: _clean_select,
    FieldType.CHECKBOX: _clean_checkbox,
    FieldType.DATE: _clean_date,
}


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_answers(page: Page | PageView, answers: dict[str, object], *, partial: bool = False) -> dict[str, object]:
    """Check a shopper's answers to the page's custom fields and return them cleaned, keyed by
    field key, ready to store on the checkout session (JSON-safe):

    - text, textarea, email, phone, url, select → the trimmed string (email normalised, phone
      with single spaces); numbers → an exact decimal string ("42", "-3.5"; never a float);
      date → "YYYY-MM-DD"; checkbox → True/False (also from "on", "true", "1", "false", "").
    - Blank answers (missing, None, "", "  ") are left out of the result. A required field left
      blank, or a required checkbox not ticked, is "This field is required." unless `partial`
      (a form still being filled in, e.g. while the shopper types).
    - Keys the page does not have are refused.

    Raises ValidationFailed whose `fields` map each failing field key to its messages."""
    if not isinstance(answers, dict):
        raise ValidationFailed("Send the answers as an object keyed by field key.")
    fields = {f.key: f for f in page.custom_fields}
    errors: dict[str, list[str]] = {key: ["This page has no such field."] for key in answers if key not in fields}
    cleaned: dict[str, object] = {}
    for key, field in fields.items():
        value = answers.get(key)
        try:
            value = None if _is_blank(value) else _CLEANERS[field.type](value, field)
        except _Invalid as problem:
            errors[key] = [str(problem)]
            continue
        if (value is None or value is False) and field.required and not partial:
            errors[key] = [REQUIRED_MESSAGE]
        if value is not None:
            cleaned[key] = value
    if errors:
        raise ValidationFailed("Some answers are invalid.", fields=errors)
    return cleaned
