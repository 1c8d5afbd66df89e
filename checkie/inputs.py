"""Hostile input is refused at the edge, once, before any view, parser or database sees it.

Three places cover every way input arrives: URL converters (path variables), one
before-request hook (declared body size, query string, form and JSON bodies; for views that
authenticate a bearer token, the content checks run right after authentication instead), and
the JSON decoder those checks use. What they refuse cannot be stored or handled safely anywhere in the
app: NUL characters (PostgreSQL text cannot hold them), lone surrogates (not encodable as
UTF-8), integers past BIGINT, non-finite numbers, and JSON nested deeper than any of our
bodies (the json module and marshmallow recurse, so very deep input is a RecursionError).
"""
from __future__ import annotations

import json
import math
import re

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter, ValidationError

from checkie.database import MAX_ID
from checkie.errors import DomainError, ValidationFailed

#: Deeper than any body the API or the widget documents (pages nest pricing in a page: 3).
MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE = "Text may not contain NUL characters or unpaired surrogates."
#: Marks a view that calls `check_content()` itself, after authenticating the caller.
CHECKS_CONTENT_ITSELF = "checks_content_itself"
#: The widest signed 64-bit integer has 19 digits; a longer id names nothing.
_MAX_ID_DIGITS = len(str(MAX_ID))


def checks_content_itself(view):
    """Mark a view that authenticates its caller first (a bearer token, a PSP signature) and then
    checks the content itself, so that a stranger learns nothing from how their body is judged."""
    setattr(view, CHECKS_CONTENT_ITSELF, True)
    return view


class UnacceptableInput(DomainError):
    status = 400
    code = "bad_request"


class RefusedValue(ValidationFailed):
    """A value that cannot be stored or handled; `fields` names it as the client sent it (a
    query parameter, a form field, a JSON path such as `pricing.amount`), and so does the answer."""


class UnacceptableJSON(ValueError):
    """A body that parses as JSON but that no view could accept (a ValueError like the json
    module's own, so callers that catch malformed JSON catch this too). `field` names the
    value at fault (`pricing.amount`) when one is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def loads_json(data: bytes | str):
    """`json.loads`, refusing what the app must never process: raises ValueError (a
    JSONDecodeError, or UnacceptableJSON naming the problem)."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise UnacceptableJSON(f"JSON may nest at most {MAX_JSON_DEPTH} levels.") from None
    _check_json(value)
    return value


def _refuse_constant(name: str):
    raise UnacceptableJSON(f"{name} is not a JSON number.")


def _check_json(value) -> None:
    """Walk the decoded value without recursion (the point is to refuse what is too deep)."""
    pending = [(value, 1, "")]
    while pending:
        item, depth, field = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise UnacceptableJSON(f"JSON may nest at most {MAX_JSON_DEPTH} levels.")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and not storable(key):
                    raise UnacceptableJSON("Names may not contain NUL characters or unpaired surrogates.")
                pending.append((child, depth + 1, f"{field}.{key}" if field else str(key)))
        else:
            _check_scalar(item, field)


def _check_scalar(item, field: str) -> None:
    if isinstance(item, str) and not storable(item):
        raise UnacceptableJSON(UNSTORABLE, field)
    if isinstance(item, float) and not math.isfinite(item):
        raise UnacceptableJSON("Numbers must be finite.", field)
    if isinstance(item, int) and not isinstance(item, bool) and not -MAX_ID - 1 <= item <= MAX_ID:
        raise UnacceptableJSON("Integers must fit in 64 bits.", field)


def check_size() -> None:
    """A body over MAX_CONTENT_LENGTH is a 413 even if no view would read it."""
    if request.content_length is not None and request.content_length > (request.max_content_length or math.inf):
        raise RequestEntityTooLarge()


def check_content() -> None:
    """A JSON body that is malformed or too deep is a 400; a value that cannot be stored or is
    a number past 64 bits, in the query string, the form or a JSON object, is a 422 naming it."""
    for values, numbers_only_here in ((request.args, True), (request.form, False)):
        for name, value in values.items(multi=True):
            if not storable(name):
                raise UnacceptableInput("Parameter names may not contain NUL characters or unpaired surrogates.")
            if not storable(value):
                raise RefusedValue.on(name, UNSTORABLE)
            if numbers_only_here and not _fits_bigint(value):
                raise RefusedValue.on(name, "Numbers must fit in 64 bits.")
    if request.is_json:
        _check_json_body()


def id_in(value: object) -> int | None:
    """The row id a string from outside names (`"42"`, as PSPs send our ids back in metadata), or
    None for anything else: not a string, not ASCII digits, zero, or past BIGINT."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > _MAX_ID_DIGITS:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def _fits_bigint(text: str) -> bool:
    """Query parameters name ids, pages and counts: a whole number past BIGINT is none of them
    (and would overflow `int()`'s digit limit or PostgreSQL)."""
    digits = text.strip().removeprefix("-").removeprefix("+").lstrip("0")
    return not digits.isdecimal() or (len(digits) <= _MAX_ID_DIGITS and -MAX_ID - 1 <= int(text) <= MAX_ID)


def _check_json_body() -> None:
    """An empty body is left to the view (some take none)."""
    data = request.get_data(cache=True)
    if not data:
        return
    try:
        loads_json(data)
    except UnacceptableJSON as error:
        if error.field:
            raise RefusedValue.on(error.field, str(error)) from None
        raise UnacceptableInput(str(error)) from None
    except ValueError:
        raise UnacceptableInput("The body is not valid JSON.") from None


class IdConverter(IntegerConverter):
    """`<int:…>`: a positive BIGINT. A longer or larger number matches no route (404) instead
    of overflowing `int()`'s digit limit or PostgreSQL's BIGINT."""

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value) > _MAX_ID_DIGITS:
            raise ValidationError()
        return super().to_python(value)


class TextConverter(UnicodeConverter):
    """`<name>` and `<string:name>`: no NUL or unpaired surrogate (404)."""

    def to_python(self, value: str) -> str:
        if not storable(value):
            raise ValidationError()
        return value


class SafePathConverter(PathConverter):
    def to_python(self, value: str) -> str:
        if not storable(value):
            raise ValidationError()
        return value


def init_converters(app: Flask) -> None:
    """Replace the stock converters before any blueprint adds a rule, so every route uses them."""
    app.url_map.converters.update(
        default=TextConverter, string=TextConverter, path=SafePathConverter, int=IdConverter
    )
