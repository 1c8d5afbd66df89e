"""Custom field services: the definition rules, keys (generated, unique, frozen once the page has
checkout sessions), deleting and reordering."""
import pytest
import sqlalchemy as sa

from checkie.catalog import fields
from checkie.catalog.models import CustomField, FieldType
from checkie.errors import Conflict, NotFound, ValidationFailed
from tests.factories import make_field, make_page, make_store, open_checkouts


@pytest.fixture
def page(db, store):
    return make_page(db, store)


def _field_error(excinfo) -> dict:
    return excinfo.value.fields


def test_a_field_is_added_at_the_end_with_its_attributes(db, page):
    first = make_field(db, page, label="Company")
    second = fields.create_field(
        db, page, label="  T-shirt size ", type="select", key="size", required=True,
        options=[" S", "M ", "L"], help_text="  Pick one  ",
    )
    assert (first.position, second.position) == (0, 1)
    assert (second.key, second.label, second.type, second.required) == ("size", "T-shirt size", FieldType.SELECT, True)
    assert second.options == ["S", "M", "L"] and second.help_text == "Pick one"
    assert [f.key for f in page.custom_fields] == ["company", "size"]


@pytest.mark.parametrize("label, key", [
    ("Company name", "company_name"),
    ("Company name (optional)", "company_name_optional"),
    ("Café crème / Größe", "cafe_creme_groe"),
    ("2nd address line", "field_2nd_address_line"),
    ("!!!", "field"),
    ("Ünïcödé", "unicode"),
    ("x" * 80, "x" * 40),
])
def test_keys_are_derived_from_labels(label, key):
    assert fields.key_from_label(label) == key
    fields.check_key(key)


def test_derived_keys_are_made_unique_within_the_page(db, store, page):
    keys = [make_field(db, page, label="Email").key for _ in range(3)]
    assert keys == ["email", "email_2", "email_3"]
    long_label = "a" * 45
    assert make_field(db, page, label=long_label).key == "a" * 40
    assert make_field(db, page, label=long_label).key == "a" * 38 + "_2"
    other_page = make_page(db, store)
    assert make_field(db, other_page, label="Email").key == "email"  # unique per page, not per store


@pytest.mark.parametrize("key", ["Company", "1st", "_x", "with space", "dash-key", "é", "a" * 41, "a.b"])
def test_explicit_keys_must_be_lower_snake_case(db, page, key):
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, key=key)
    assert "key" in _field_error(excinfo)


def test_explicit_keys_must_be_unique_in_the_page(db, page):
    make_field(db, page, key="company")
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, label="Other", key="company")
    assert _field_error(excinfo) == {"key": ["Another field of this page already uses this key."]}


@pytest.mark.parametrize("label", ["", "   ", "x" * 201, "two\nlines"])
def test_a_label_is_one_line_of_1_to_200_characters(db, page, label):
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, label=label)
    assert "label" in _field_error(excinfo)


def test_every_type_can_be_created_and_unknown_types_are_refused(db, page):
    for field_type in FieldType:
        options = ["One"] if field_type is FieldType.SELECT else None
        field = make_field(db, page, label=f"A {field_type.value}", type=field_type.value, options=options)
        assert field.type is field_type
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, type="color")
    assert "type" in _field_error(excinfo)


@pytest.mark.parametrize("options, message", [
    (None, "A select field needs at least one option."),
    ([], "A select field needs at least one option."),
    (["S", " "], "Enter a name."),
    (["S", "s"], "Each option must be different."),
    (["S", "S"], "Each option must be different."),
    (["x" * 101], "Use at most 100 characters."),
    ([str(n) for n in range(51)], "Use at most 50 options."),
])
def test_select_options_are_required_distinct_and_non_empty(db, page, options, message):
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, type="select", options=options)
    assert _field_error(excinfo) == {"options": [message]}


def test_only_select_fields_have_options(db, page):
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, type="text", options=["A"])
    assert _field_error(excinfo) == {"options": ["Only select fields have options."]}
    assert make_field(db, page, type="text", options=[]).options is None


def test_help_text_is_optional_and_limited(db, page):
    assert make_field(db, page, help_text="   ").help_text is None
    for help_text in ("x" * 301, "two\nlines", "nul\x00"):
        with pytest.raises(ValidationFailed) as excinfo:
            make_field(db, page, label="Long help", help_text=help_text)
        assert "help_text" in _field_error(excinfo)


def test_a_page_has_at_most_50_fields(db, page):
    for n in range(fields.MAX_FIELDS_PER_PAGE):
        make_field(db, page, label=f"Question {n}")
    with pytest.raises(ValidationFailed, match="at most 50"):
        make_field(db, page, label="One too many")


def test_update_changes_only_what_is_given(db, page):
    field = make_field(db, page, label="Company", help_text="Legal name", required=True)
    fields.update_field(db, field, label="Company name")
    assert (field.label, field.key, field.help_text, field.required) == ("Company name", "company", "Legal name", True)
    fields.update_field(db, field, key="org", required=False, help_text=None)
    assert (field.key, field.required, field.help_text) == ("org", False, None)


def test_update_keeps_keys_unique(db, page):
    make_field(db, page, label="Company")
    other = make_field(db, page, label="Phone")
    with pytest.raises(ValidationFailed) as excinfo:
        fields.update_field(db, other, key="company")
    assert "key" in _field_error(excinfo)
    assert other.key == "phone"


def test_changing_the_type_checks_options(db, page):
    field = make_field(db, page, label="Size")
    with pytest.raises(ValidationFailed) as excinfo:
        fields.update_field(db, field, type="select")
    assert "options" in _field_error(excinfo)
    fields.update_field(db, field, type="select", options=["S", "M"])
    assert (field.type, field.options) == (FieldType.SELECT, ["S", "M"])
    fields.update_field(db, field, options=["S", "M", "L"])
    assert field.options == ["S", "M", "L"]
    fields.update_field(db, field, type="text")
    assert (field.type, field.options) == (FieldType.TEXT, None)


def test_keys_are_frozen_once_the_page_has_sessions(db, page):
    field = make_field(db, page, label="Company")
    open_checkouts(db, page)
    assert fields.keys_locked(page)
    with pytest.raises(Conflict) as excinfo:
        fields.update_field(db, field, key="organisation")
    assert excinfo.value.status == 409 and excinfo.value.code == "key_locked"
    assert "checkout sessions" in excinfo.value.message and "key" in excinfo.value.fields
    # Everything else stays editable, and sending the same key is not a change.
    fields.update_field(db, field, key="company", label="Organisation", required=True, help_text="Legal name")
    db.commit()
    db.refresh(field)
    assert (field.key, field.label, field.required) == ("company", "Organisation", True)


def test_fields_cannot_be_deleted_once_the_page_has_sessions(db, page):
    field = make_field(db, page, label="Company")
    open_checkouts(db, page)
    with pytest.raises(Conflict, match="Make it optional instead") as excinfo:
        fields.delete_field(db, field)
    assert excinfo.value.code == "field_in_use"
    assert db.scalar(sa.select(sa.func.count(CustomField.id))) == 1


def test_a_page_without_sessions_has_editable_keys_and_deletable_fields(db, page):
    field = make_field(db, page, label="Company")
    assert not fields.keys_locked(page)
    fields.update_field(db, field, key="organisation")
    fields.delete_field(db, field)
    assert page.custom_fields == []


def test_reorder_puts_fields_in_the_given_order(db, page):
    a, b, c = (make_field(db, page, label=label) for label in ("A", "B", "C"))
    ordered = fields.reorder_fields(db, page, [c.id, a.id, b.id])
    assert [f.key for f in ordered] == ["c", "a", "b"]
    assert [f.key for f in fields.list_fields(db, page)] == ["c", "a", "b"]
    assert [f.key for f in page.custom_fields] == ["c", "a", "b"]


@pytest.mark.parametrize("ids", ["missing one", "duplicate", "foreign", "unknown", "empty"])
def test_reorder_needs_exactly_the_pages_field_ids(db, store, page, ids):
    a, b = make_field(db, page, label="A"), make_field(db, page, label="B")
    foreign = make_field(db, make_page(db, store), label="X")
    sent = {
        "missing one": [a.id], "duplicate": [a.id, a.id, b.id], "foreign": [a.id, foreign.id],
        "unknown": [a.id, 999999], "empty": [],
    }[ids]
    with pytest.raises(ValidationFailed) as excinfo:
        fields.reorder_fields(db, page, sent)
    assert "ids" in _field_error(excinfo)
    assert [f.key for f in fields.list_fields(db, page)] == ["a", "b"]


def test_moving_up_and_down_stops_at_the_ends(db, page):
    a, b, c = (make_field(db, page, label=label) for label in ("A", "B", "C"))
    assert [f.key for f in fields.move_field(db, c, offset=-1)] == ["a", "c", "b"]
    assert [f.key for f in fields.move_field(db, a, offset=-1)] == ["a", "c", "b"]
    assert [f.key for f in fields.move_field(db, a, offset=1)] == ["c", "a", "b"]
    assert [f.key for f in fields.move_field(db, b, offset=1)] == ["c", "a", "b"]


def test_reordering_is_allowed_once_the_page_has_sessions(db, page):
    a, b = make_field(db, page, label="A"), make_field(db, page, label="B")
    open_checkouts(db, page)
    assert [f.key for f in fields.reorder_fields(db, page, [b.id, a.id])] == ["b", "a"]


def test_fields_are_found_only_through_their_page(db, store, page):
    field = make_field(db, page)
    assert fields.get_field(db, page, field.id) is field
    other_store_page = make_page(db, make_store(db, name="Other"))
    for page_, field_id in ((other_store_page, field.id), (page, 2**63), (page, 0), (page, field.id + 100)):
        with pytest.raises(NotFound):
            fields.get_field(db, page_, field_id)


def test_a_duplicate_key_from_a_race_is_a_field_error_not_a_crash(db, page, monkeypatch):
    make_field(db, page, key="company")
    monkeypatch.setattr(fields, "_taken_keys", lambda *args, **kwargs: set())  # the read lost a race
    with pytest.raises(ValidationFailed) as excinfo:
        make_field(db, page, label="Company again", key="company")
    assert "key" in _field_error(excinfo)
    assert [f.key for f in fields.list_fields(db, page)] == ["company"]  # the transaction is still usable
