"""Custom fields: the questions a checkout page asks (add, edit, delete, reorder). The
shopper's answers are checked by `checkie.catalog.answers.validate_answers`.

A field's `key` names its answers on checkout sessions, so once the page has had a session
(`page.stats.sessions > 0`) keys are frozen and fields cannot be deleted: old answers would
lose their meaning. Labels, help texts, the required flag, options and order stay editable.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.catalog.models import CustomField, FieldType, Page
from checkie.catalog.pages import has_checkouts
from checkie.errors import Conflict, NotFound, ValidationFailed
from checkie.stores.access import MAX_ID
from checkie.stores.services import clean_label

KEY_MAX_LENGTH = 40
LABEL_MAX_LENGTH = 200
HELP_TEXT_MAX_LENGTH = 300
OPTION_MAX_LENGTH = 100
MAX_OPTIONS = 50
#: A checkout form longer than this is a mistake, and lists of fields are never paginated.
MAX_FIELDS_PER_PAGE = 50
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Passed for an attribute `update_field` must leave alone (None is a value: "no help text").
KEEP = object()


# ---------- loading (pages come from `pages.get_page`, which scopes them by store) ----------

def get_field(db: Session, page: Page, field_id: int) -> CustomField:
    """A field of `page`; another page's field is NotFound, like a missing one."""
    field = db.get(CustomField, field_id) if 0 < field_id <= MAX_ID else None
    if field is None or field.page_id != page.id:
        raise NotFound("Custom field not found.")
    return field


def list_fields(db: Session, page: Page) -> list[CustomField]:
    """The page's fields in the order shoppers see them."""
    return list(db.scalars(
        sa.select(CustomField).where(CustomField.page_id == page.id).order_by(CustomField.position, CustomField.id)
    ))


def keys_locked(page: Page) -> bool:
    """True once the page has had a checkout session: answers are stored under the keys."""
    return has_checkouts(page)


# ---------- the field definition rules ----------

def key_from_label(label: str) -> str:
    """'Company name (optional)' → 'company_name_optional'; 'Café' → 'cafe'; '2nd line' →
    'field_2nd_line'. Always matches the key rule."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not key[:1].isalpha():
        key = f"field_{key}".rstrip("_")
    return key[:KEY_MAX_LENGTH].rstrip("_")


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not _KEY.fullmatch(key):
        raise ValidationFailed.on(
            "key", "Use lower_snake_case: a lowercase letter, then up to 39 lowercase letters, digits or underscores."
        )
    return key


def _free_key(taken: set[str], base: str) -> str:
    """`base`, or `base_2`, `base_3` … (trimmed to fit) when another field of the page has it."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = base[: KEY_MAX_LENGTH - len(suffix)].rstrip("_") + suffix
    return candidate


def _taken_keys(db: Session, page: Page, *, except_id: int | None = None) -> set[str]:
    stmt = sa.select(CustomField.key).where(CustomField.page_id == page.id)
    if except_id is not None:
        stmt = stmt.where(CustomField.id != except_id)
    return set(db.scalars(stmt))


def check_type(value: FieldType | str) -> FieldType:
    try:
        return FieldType(value)
    except ValueError:
        raise ValidationFailed.on("type", "Choose one of: " + ", ".join(t.value for t in FieldType) + ".") from None


def check_options(options: Sequence[str] | None) -> list[str]:
    """A select's choices: 1–50 distinct (case-insensitively), non-empty, ≤ 100 characters each."""
    cleaned = [clean_label(o if isinstance(o, str) else "", field="options", max_length=OPTION_MAX_LENGTH)
               for o in options or []]
    if not cleaned:
        raise ValidationFailed.on("options", "A select field needs at least one option.")
    if len(cleaned) > MAX_OPTIONS:
        raise ValidationFailed.on("options", f"Use at most {MAX_OPTIONS} options.")
    if len({o.casefold() for o in cleaned}) != len(cleaned):
        raise ValidationFailed.on("options", "Each option must be different.")
    return cleaned


def _check_help_text(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > HELP_TEXT_MAX_LENGTH:
        raise ValidationFailed.on("help_text", f"Use at most {HELP_TEXT_MAX_LENGTH} characters.")
    if _CONTROL.search(text):
        raise ValidationFailed.on("help_text", "Use one line of letters, digits, spaces and punctuation.")
    return text or None


def _options_for(field_type: FieldType, options: Sequence[str] | None) -> list[str] | None:
    if field_type is FieldType.SELECT:
        return check_options(options)
    if options:
        raise ValidationFailed.on("options", "Only select fields have options.")
    return None


def _lock_page(db: Session, page: Page) -> None:
    """Serialise changes to one page's field list (positions, the field count)."""
    db.execute(sa.select(Page.id).where(Page.id == page.id).with_for_update())


def _save(db: Session, field: CustomField, values: dict) -> None:
    """Apply `values` to `field` and flush inside a savepoint. The unique constraint is the real
    guard against two fields with one key (the read in `_taken_keys` can race): its violation
    becomes a field error, not a 500. Changes happen inside the savepoint, because
    `begin_nested()` flushes whatever is pending before it starts."""
    try:
        with db.begin_nested():
            db.add(field)
            for name, value in values.items():
                setattr(field, name, value)
    except IntegrityError as exc:
        if "uq_custom_fields_page_key" not in str(exc.orig):
            raise
        raise ValidationFailed.on("key", "Another field of this page already uses this key.") from None


# ---------- use cases ----------

def create_field(
    db: Session, page: Page, *, label: str, type: FieldType | str, key: str | None = None,
    required: bool = False, options: Sequence[str] | None = None, help_text: str | None = None,
) -> CustomField:
    """Add a field at the end of the page's form. Without `key`, one is derived from the label
    (made unique within the page). ValidationFailed on `label`, `key`, `type`, `options`, `help_text`."""
    label = clean_label(label, field="label", max_length=LABEL_MAX_LENGTH)
    field_type = check_type(type)
    options = _options_for(field_type, options)
    help_text = _check_help_text(help_text)
    _lock_page(db, page)
    taken = _taken_keys(db, page)
    if len(taken) >= MAX_FIELDS_PER_PAGE:
        raise ValidationFailed(f"A page can have at most {MAX_FIELDS_PER_PAGE} custom fields.")
    if key is None or not key.strip():
        key = _free_key(taken, key_from_label(label))
    elif check_key(key) in taken:
        raise ValidationFailed.on("key", "Another field of this page already uses this key.")
    position = db.scalar(sa.select(sa.func.coalesce(sa.func.max(CustomField.position), -1) + 1)
                         .where(CustomField.page_id == page.id))
    field = CustomField(page_id=page.id)
    _save(db, field, {"key": key.strip(), "label": label, "type": field_type, "required": bool(required),
                      "options": options, "help_text": help_text, "position": position})
    db.refresh(page, ["custom_fields"])
    return field


def update_field(
    db: Session, field: CustomField, *, label=KEEP, key=KEEP, type=KEEP, required=KEEP, options=KEEP, help_text=KEEP,
) -> CustomField:
    """Change what is given (KEEP leaves an attribute alone). The key cannot change once the page
    has had checkout sessions (Conflict on `key`). Changing the type away from select drops the
    options. ValidationFailed on `label`, `key`, `type`, `options`, `help_text`."""
    values: dict = {}
    if label is not KEEP:
        values["label"] = clean_label(label, field="label", max_length=LABEL_MAX_LENGTH)
    if key is not KEEP and key is not None and key.strip() != field.key:
        values["key"] = _changed_key(db, field, check_key(key))
    field_type = check_type(type) if type is not KEEP else field.type
    if options is KEEP:
        options = field.options if field_type is FieldType.SELECT else None
    values["options"] = _options_for(field_type, options)
    values["type"] = field_type
    if required is not KEEP:
        values["required"] = bool(required)
    if help_text is not KEEP:
        values["help_text"] = _check_help_text(help_text)
    _save(db, field, values)
    return field


def _changed_key(db: Session, field: CustomField, key: str) -> str:
    if keys_locked(field.page):
        raise Conflict(
            "This page already has checkout sessions whose answers are stored under the key "
            f"“{field.key}”, so the key cannot change any more. You can still change the label.",
            fields={"key": ["Keys are frozen once the page has checkout sessions."]}, code="key_locked",
        )
    if key in _taken_keys(db, field.page, except_id=field.id):
        raise ValidationFailed.on("key", "Another field of this page already uses this key.")
    return key


def delete_field(db: Session, field: CustomField) -> None:
    """Remove a field. Refused (Conflict) once the page has had checkout sessions, whose answers
    refer to it; make the field optional instead."""
    page = field.page
    if keys_locked(page):
        raise Conflict(
            f"“{field.label}” cannot be deleted: this page already has checkout sessions with answers "
            "to it. Make it optional instead.", code="field_in_use",
        )
    db.delete(field)
    db.flush()
    db.refresh(page, ["custom_fields"])


def reorder_fields(db: Session, page: Page, ids: Sequence[int]) -> list[CustomField]:
    """Put the fields in the order of `ids`, which must name each of the page's fields exactly
    once (ValidationFailed on `ids` otherwise). Returns the fields in their new order."""
    _lock_page(db, page)
    fields = {f.id: f for f in list_fields(db, page)}
    if len(ids) != len(fields) or set(ids) != set(fields):
        raise ValidationFailed.on("ids", "Send each of this page's custom field ids exactly once.")
    for position, field_id in enumerate(ids):
        fields[field_id].position = position
    db.flush()
    db.refresh(page, ["custom_fields"])
    return [fields[i] for i in ids]


def move_field(db: Session, field: CustomField, *, offset: int) -> list[CustomField]:
    """Move a field `offset` places (−1 up, +1 down), stopping at either end; the dashboard's
    up/down buttons. Returns the page's fields in their new order."""
    page = field.page
    _lock_page(db, page)
    order = [f.id for f in list_fields(db, page)]
    current = order.index(field.id)
    target = max(0, min(len(order) - 1, current + offset))
    order.insert(target, order.pop(current))
    return reorder_fields(db, page, order)
