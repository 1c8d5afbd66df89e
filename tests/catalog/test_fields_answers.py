"""validate_answers: the server-side check of a shopper's answers, for every field type."""
import pytest

from checkie.catalog.answers import validate_answers
from checkie.errors import ValidationFailed
from tests.factories import make_field, make_page


@pytest.fixture
def page(db, store):
    return make_page(db, store)


def _one(db, page, field_type: str, **options):
    """A page whose only field is an optional `answer` of `field_type`."""
    make_field(db, page, label="Answer", type=field_type, **options)
    return page


def _clean(page, value):
    return validate_answers(page, {"answer": value})["answer"]


def _error(page, value) -> list[str]:
    with pytest.raises(ValidationFailed) as excinfo:
        validate_answers(page, {"answer": value})
    return excinfo.value.fields["answer"]


CASES = {
    # type: ([(input, cleaned)], [invalid inputs])
    "text": (
        [("  Acme Ltd ", "Acme Ltd"), ("x" * 500, "x" * 500), ("line one\nline two", "line one\nline two")],
        [5, ["a"], {"a": 1}, True, "x" * 501, "nul\x00byte"],
    ),
    "textarea": (
        [("Ring twice.\nThen wait.", "Ring twice.\nThen wait."), ("x" * 5000, "x" * 5000)],
        [42, "x" * 5001],
    ),
    "number": (
        [(42, "42"), ("42", "42"), (" -3.50 ", "-3.5"), (0.25, "0.25"), ("1000000", "1000000"), ("-0", "0"),
         ("0.000001", "0.000001"), (".5", "0.5"), ("999999999999999", "999999999999999")],
        ["abc", "1e3", "1,5", "12 kg", "NaN", "Infinity", float("nan"), float("inf"), True, ["1"],
         "0.0000001", "1000000000000000", 10**20, "١٢"],
    ),
    "email": (
        [(" ada@Example.com ", "ada@example.com"), ("a.b+tag@sub.example.org", "a.b+tag@sub.example.org")],
        ["not-an-email", "ada@", "@example.com", "ada@example", 7, "a" * 250 + "@example.com"],
    ),
    "phone": (
        [("+1 (555) 123-4567", "+1 (555) 123-4567"), ("0123  456 789", "0123 456 789"), ("1234567", "1234567")],
        ["123456", "+" + "1" * 21, "555-CALL-NOW", "12+34567890", "phone: 1234567", 5551234567],
    ),
    "url": (
        [("https://acme.example/about?x=1", "https://acme.example/about?x=1"), (" http://acme.example ", "http://acme.example")],
        ["acme.example", "ftp://acme.example", "javascript:alert(1)", "https://", "https://acme .example", "http://acme.example:99999", 3],
    ),
    "checkbox": (
        [(True, True), ("on", True), ("true", True), ("1", True), ("yes", True), (False, False), ("false", False), ("off", False)],
        ["maybe", 1, 0, ["on"]],
    ),
    "date": (
        [("2024-02-29", "2024-02-29"), (" 1999-12-31 ", "1999-12-31")],
        ["2023-02-29", "2024-13-01", "31/12/1999", "20240101", "2024-1-1", "tomorrow", 20240101],
    ),
}


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_valid_answers_are_cleaned(db, page, field_type):
    _one(db, page, field_type)
    for value, cleaned in CASES[field_type][0]:
        assert _clean(page, value) == cleaned, value


@pytest.mark.parametrize("field_type", sorted(CASES))
def test_invalid_answers_are_refused_per_field(db, page, field_type):
    _one(db, page, field_type)
    for value in CASES[field_type][1]:
        messages = _error(page, value)
        assert len(messages) == 1 and messages[0] != "This field is required.", value


def test_select_answers_must_be_one_of_the_options(db, page):
    _one(db, page, "select", options=["Small", "Medium", "Large"])
    assert _clean(page, " Medium ") == "Medium"
    for value in ("medium", "XL", "Small, Medium", "x" * 600):
        assert _error(page, value) == ["Choose one of the options."], value
    for value in (1, ["Small"]):
        assert _error(page, value) == ["Enter text."], value


def test_date_objects_are_accepted(db, page):
    from datetime import date

    _one(db, page, "date")
    assert _clean(page, date(2024, 5, 1)) == "2024-05-01"


def test_blank_optional_answers_are_left_out(db, page):
    make_field(db, page, label="Company")
    make_field(db, page, label="Newsletter", type="checkbox")
    make_field(db, page, label="Age", type="number")
    assert validate_answers(page, {}) == {}
    assert validate_answers(page, {"company": "  ", "newsletter": None, "age": ""}) == {}
    assert validate_answers(page, {"newsletter": False}) == {"newsletter": False}


@pytest.mark.parametrize("field_type, blank", [
    ("text", None), ("text", ""), ("textarea", "   "), ("number", ""), ("email", None), ("phone", ""),
    ("url", None), ("date", ""), ("checkbox", False), ("checkbox", "off"), ("checkbox", None),
])
def test_required_fields_must_be_answered(db, page, field_type, blank):
    make_field(db, page, label="Answer", type=field_type, required=True)
    for answers in ({}, {"answer": blank}):
        with pytest.raises(ValidationFailed) as excinfo:
            validate_answers(page, answers)
        assert excinfo.value.fields == {"answer": ["This field is required."]}
        assert excinfo.value.status == 422 and excinfo.value.code == "validation_error"


def test_a_required_select_must_be_answered(db, page):
    make_field(db, page, label="Size", type="select", options=["S", "M"], required=True)
    with pytest.raises(ValidationFailed) as excinfo:
        validate_answers(page, {"size": ""})
    assert excinfo.value.fields == {"size": ["This field is required."]}
    assert validate_answers(page, {"size": "M"}) == {"size": "M"}


def test_partial_answers_skip_the_required_check_but_not_the_others(db, page):
    make_field(db, page, label="Company", required=True)
    make_field(db, page, label="Email", type="email", required=True)
    assert validate_answers(page, {"email": "ada@example.com"}, partial=True) == {"email": "ada@example.com"}
    with pytest.raises(ValidationFailed) as excinfo:
        validate_answers(page, {"email": "nope"}, partial=True)
    assert set(excinfo.value.fields) == {"email"}


def test_unknown_keys_are_refused(db, page):
    make_field(db, page, label="Company")
    with pytest.raises(ValidationFailed) as excinfo:
        validate_answers(page, {"company": "Acme", "coupon": "FREE", "Company": "x"})
    assert excinfo.value.fields == {"coupon": ["This page has no such field."], "Company": ["This page has no such field."]}


def test_every_problem_is_reported_at_once_keyed_by_field_key(db, page):
    make_field(db, page, label="Company", required=True)
    make_field(db, page, label="Email", type="email")
    make_field(db, page, label="Size", type="select", options=["S"])
    with pytest.raises(ValidationFailed) as excinfo:
        validate_answers(page, {"email": "nope", "size": "XL"})
    assert set(excinfo.value.fields) == {"company", "email", "size"}


def test_a_full_form_is_cleaned_for_storage(db, page):
    make_field(db, page, label="Company", required=True)
    make_field(db, page, label="Seats", type="number")
    make_field(db, page, label="Terms", type="checkbox", required=True)
    make_field(db, page, label="Start", type="date")
    cleaned = validate_answers(page, {"company": " Acme ", "seats": "12", "terms": "on", "start": "2025-01-31"})
    assert cleaned == {"company": "Acme", "seats": "12", "terms": True, "start": "2025-01-31"}


def test_answers_must_be_an_object(db, page):
    with pytest.raises(ValidationFailed):
        validate_answers(page, ["company"])
