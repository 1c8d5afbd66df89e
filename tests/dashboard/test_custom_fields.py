"""Dashboard: a page's custom fields — add, edit, delete, move; htmx fragments and plain posts."""
import re

import pytest
import sqlalchemy as sa

from checkie.catalog.models import CustomField, FieldType
from checkie.stores.models import Role
from tests.factories import add_member, make_field, make_page, make_store, make_user, open_checkouts
from tests.http import HX, login_as, post_form


@pytest.fixture
def page(db, store):
    page = make_page(db, store, title="T-shirt", publish=True)
    db.commit()
    return page


def base(page) -> str:
    return f"/dashboard/stores/{page.store_id}/pages/{page.id}/custom-fields"


def _keys(db, page) -> list[str]:
    db.expire_all()
    return list(db.scalars(sa.select(CustomField.key).where(CustomField.page_id == page.id).order_by(CustomField.position)))


def editor(page) -> str:
    """The page editor, where plain (no-JS) posts return."""
    return f"/dashboard/stores/{page.store_id}/pages/{page.id}"


def test_the_screen_lists_fields_with_their_controls(client, db, user, page):
    make_field(db, page, label="Company", help_text="Legal name")
    make_field(db, page, label="Size", type="select", options=["S", "M"], required=True)
    db.commit()
    login_as(client, user)
    html = client.get(base(page)).get_data(as_text=True)
    assert "<html" in html and 'id="custom-fields"' in html
    assert "Company" in html and "Legal name" in html and "<code>size</code>" in html and "S, M" in html
    # The ends of the list keep a disabled arrow so every row's buttons line up.
    assert 'aria-label="Move Company down">' in html and 'aria-label="Move Company up" disabled>' in html
    assert 'aria-label="Move Size up">' in html and 'aria-label="Move Size down" disabled>' in html
    assert 'aria-label="Edit Company"' in html and 'aria-label="Delete Company"' in html and "Add field" in html


def test_htmx_add_answers_the_fragment(client, db, user, page):
    login_as(client, user)
    response = post_form(client, base(page), {
        "cf_new-label": "T-shirt size", "cf_new-type": "select", "cf_new-options": "S\r\nM\r\n\r\nL",
        "cf_new-required": "y", "cf_new-help_text": "EU sizes",
    }, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="custom-fields"') and "Added “T-shirt size” (t_shirt_size)." in body
    assert "HX-Request" in response.headers["Vary"]
    field = db.scalar(sa.select(CustomField))
    assert (field.key, field.type, field.options, field.required, field.help_text) == (
        "t_shirt_size", FieldType.SELECT, ["S", "M", "L"], True, "EU sizes")


def test_options_of_other_types_are_ignored(client, db, user, page):
    login_as(client, user)
    post_form(client, base(page), {"cf_new-label": "Company", "cf_new-type": "text", "cf_new-options": "left over"}, headers=HX)
    assert db.scalar(sa.select(CustomField.options)) is None


def test_a_plain_post_redirects_to_the_editor(client, db, user, page):
    login_as(client, user)
    response = post_form(client, base(page), {"cf_new-label": "Company", "cf_new-type": "text"})
    assert response.status_code == 303 and response.headers["Location"] == editor(page)
    assert _keys(db, page) == ["company"]


@pytest.mark.parametrize("data, error_id", [
    ({"cf_new-label": "", "cf_new-type": "text"}, "cf_new-label-error"),
    ({"cf_new-label": "Size", "cf_new-type": "select", "cf_new-options": ""}, "cf_new-options-error"),
    ({"cf_new-label": "Size", "cf_new-type": "text", "cf_new-key": "Bad Key"}, "cf_new-key-error"),
    ({"cf_new-label": "Size", "cf_new-type": "text", "cf_new-help_text": "h" * 301}, "cf_new-help_text-error"),
    ({"cf_new-label": "Size", "cf_new-type": "colour"}, "cf_new-type-error"),
])
def test_invalid_input_is_a_422_with_errors_beside_the_fields(client, db, user, page, data, error_id):
    login_as(client, user)
    response = post_form(client, base(page), data, page=base(page), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and f'id="{error_id}"' in body
    assert "<details open>" in body  # the add form stays open with its errors
    assert _keys(db, page) == []


def test_without_javascript_errors_come_on_a_page_of_their_own(client, db, user, page):
    login_as(client, user)
    response = post_form(client, base(page), {"cf_new-label": "Size", "cf_new-type": "select"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in body and 'id="cf_new-options-error"' in body


def test_editing_in_place(client, db, user, page):
    field = make_field(db, page, label="Company", help_text="Legal name")
    db.commit()
    login_as(client, user)
    form = client.get(f"{base(page)}/{field.id}/edit", headers=HX)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "<html" not in html and 'aria-label="Edit Company"' in html
    assert 'value="Company"' in html and 'value="company"' in html and "Save field" in html
    response = post_form(client, f"{base(page)}/{field.id}", {
        "cf_edit-label": "Company name", "cf_edit-key": "org", "cf_edit-type": "text", "cf_edit-help_text": "",
    }, page=f"{base(page)}/{field.id}/edit", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Saved “Company name”." in body and "<code>org</code>" in body
    db.expire_all()
    assert (field.label, field.key, field.help_text, field.required) == ("Company name", "org", None, False)


def test_an_invalid_edit_keeps_the_edit_form_open(client, db, user, page):
    field = make_field(db, page, label="Company")
    make_field(db, page, label="Phone")
    db.commit()
    login_as(client, user)
    response = post_form(client, f"{base(page)}/{field.id}", {
        "cf_edit-label": "Company", "cf_edit-key": "phone", "cf_edit-type": "text",
    }, page=f"{base(page)}/{field.id}/edit", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="cf_edit-key-error"' in body and "already uses this key" in body
    assert _keys(db, page) == ["company", "phone"]


def test_once_the_page_has_sessions_the_key_is_frozen_and_delete_refused(client, db, user, page):
    field = make_field(db, page, label="Company")
    open_checkouts(db, page)
    db.commit()
    login_as(client, user)
    listing = client.get(base(page)).get_data(as_text=True)
    assert "keys are frozen and fields cannot be deleted" in listing and 'aria-label="Delete Company"' not in listing
    edit = client.get(f"{base(page)}/{field.id}/edit", headers=HX).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="cf_edit-key"[^>]*readonly', edit) and "Frozen" in edit
    response = post_form(client, f"{base(page)}/{field.id}", {
        "cf_edit-label": "Company", "cf_edit-key": "org", "cf_edit-type": "text",
    }, page=base(page), headers=HX)
    assert response.status_code == 422 and "Keys are frozen" in response.get_data(as_text=True)
    response = post_form(client, f"{base(page)}/{field.id}/delete", page=base(page), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "cannot be deleted" in body and "Make it optional instead" in body
    assert _keys(db, page) == ["company"]


def test_deleting_a_field(client, db, user, page):
    field = make_field(db, page, label="Company")
    keep = make_field(db, page, label="Phone")
    db.commit()
    login_as(client, user)
    response = post_form(client, f"{base(page)}/{field.id}/delete", page=base(page), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "Deleted “Company”." in body
    response = post_form(client, f"{base(page)}/{keep.id}/delete", page=base(page))
    assert response.status_code == 303 and response.headers["Location"] == editor(page)
    assert _keys(db, page) == []


def test_moving_fields_up_and_down(client, db, user, page):
    a, b, c = (make_field(db, page, label=label) for label in ("Alpha", "Beta", "Gamma"))
    db.commit()
    login_as(client, user)
    response = post_form(client, f"{base(page)}/{c.id}/move", {"direction": "up"}, page=base(page), headers=HX)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert _keys(db, page) == ["alpha", "gamma", "beta"]
    assert post_form(client, f"{base(page)}/{a.id}/move", {"direction": "down"}, page=base(page)).status_code == 303
    assert _keys(db, page) == ["gamma", "alpha", "beta"]
    response = post_form(client, f"{base(page)}/{a.id}/move", {"direction": "sideways"}, page=base(page), headers=HX)
    assert response.status_code == 422 and _keys(db, page) == ["gamma", "alpha", "beta"]


def test_viewers_see_the_fields_without_controls_and_cannot_post(client, db, store, page):
    field = make_field(db, page, label="Company")
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    html = client.get(base(page)).get_data(as_text=True)
    assert "Company" in html and "Add field" not in html and 'aria-label="Edit Company"' not in html
    assert "Move Company" not in html and 'aria-label="Delete Company"' not in html
    token_page = f"/dashboard/stores/{store.id}"
    assert client.get(f"{base(page)}/{field.id}/edit").status_code == 403
    for path, data in ((base(page), {"cf_new-label": "X", "cf_new-type": "text"}), (f"{base(page)}/{field.id}/delete", {}),
                       (f"{base(page)}/{field.id}/move", {"direction": "down"}),
                       (f"{base(page)}/{field.id}", {"cf_edit-label": "X", "cf_edit-type": "text"})):
        assert post_form(client, path, data, page=token_page).status_code == 403, path
    assert _keys(db, page) == ["company"]


def test_another_stores_page_is_404(client, db, user, page):
    their_page = make_page(db, make_store(db, owner=make_user(db), name="Theirs"))
    theirs = make_field(db, their_page, label="Theirs")
    mine = make_field(db, page, label="Mine")
    other_page = make_page(db, page.store)
    db.commit()
    login_as(client, user)
    assert client.get(f"/dashboard/stores/{page.store_id}/pages/{their_page.id}/custom-fields").status_code == 404
    assert client.get(f"{base(page)}/{theirs.id}/edit").status_code == 404
    assert client.get(f"{base(other_page)}/{mine.id}/edit").status_code == 404
    assert client.get(f"/dashboard/stores/{page.store_id}/pages/{2**63}/custom-fields").status_code == 404
    response = post_form(client, f"{base(page)}/{theirs.id}/delete", page=base(page))
    assert response.status_code == 404
    assert db.scalar(sa.select(sa.func.count(CustomField.id))) == 2
