"""Dashboard: landing, creating a store, the overview, settings and deleting."""
import sqlalchemy as sa

from checkie.stores.models import Role, Store
from checkie.stores.api_keys import create_api_key, revoke_api_key
from tests.factories import add_member, make_page, make_payment, make_store, make_user
from tests.http import HX, login_as, post_form


def settings_url(store) -> str:
    return f"/dashboard/stores/{store.id}/settings"


def test_root_sends_visitors_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_root_sends_signed_in_users_to_the_dashboard(client, user):
    login_as(client, user)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")


def test_dashboard_needs_a_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_dashboard_without_stores_invites_to_create_the_first(client, user):
    login_as(client, user)
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Create your first store" in page and 'href="/dashboard/stores/new"' in page


def test_dashboard_opens_the_last_used_store_else_the_first(client, db, user):
    zeta = make_store(db, owner=user, name="Zeta", slug="zeta")
    alpha = make_store(db, owner=user, name="Alpha", slug="alpha")
    db.commit()
    login_as(client, user)
    assert client.get("/dashboard").headers["Location"].endswith(f"/dashboard/stores/{alpha.id}")
    assert client.get(f"/dashboard/stores/{zeta.id}").status_code == 200
    assert client.get("/dashboard").headers["Location"].endswith(f"/dashboard/stores/{zeta.id}")


def test_create_store_with_a_plain_post_redirects_with_303(client, db, user):
    login_as(client, user)
    response = post_form(client, "/dashboard/stores/new", {"name": "Café Central", "slug": "", "currency": "EUR"})
    store = db.scalar(sa.select(Store))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/dashboard/stores/{store.id}")
    assert (store.slug, store.currency, store.owner_id) == ("cafe-central", "EUR", user.id)
    assert "Café Central is ready" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_create_store_over_htmx_answers_hx_redirect(client, db, user):
    login_as(client, user)
    response = post_form(client, "/dashboard/stores/new", {"name": "Acme", "currency": "USD"}, headers=HX)
    store = db.scalar(sa.select(Store))
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/dashboard/stores/{store.id}"
    assert "Location" not in response.headers


def test_invalid_new_store_rerenders_with_errors_next_to_fields(client, db, user, store):
    login_as(client, user)
    data = {"name": "Another", "slug": store.slug, "currency": "USD"}
    response = post_form(client, "/dashboard/stores/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in page
    assert 'id="slug-error"' in page and "already taken" in page
    fragment = post_form(client, "/dashboard/stores/new", data, headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 422 and "<html" not in body and body.lstrip().startswith('<form id="store-form"')
    assert "already taken" in body and 'aria-invalid="true"' in body
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 1


def test_overview_shows_zeros_and_next_steps(client, user, store):
    login_as(client, user)
    response = client.get(f"/dashboard/stores/{store.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "$0.00" in page and "0.0 %" in page and "No payments yet" in page
    assert "Next steps" in page and f"/dashboard/stores/{store.id}/team" in page and "API key" in page


def test_next_steps_are_ticked_off_as_done_and_go_once_all_are(client, db, user, store):
    login_as(client, user)
    overview = f"/dashboard/stores/{store.id}"
    make_page(db, store, publish=True)
    add_member(db, store, make_user(db), role=Role.VIEWER)
    db.commit()
    page = client.get(overview).get_data(as_text=True)
    assert "A checkout page is published." in page and "Your team is invited." in page  # done: ticked off
    assert f"/dashboard/stores/{store.id}/pages/new" not in page and "Invite your team" not in page
    assert "take the first payment" in page and "Create an API key" in page  # still to do
    key, _ = create_api_key(db, store, name="Shop", created_by=user)
    make_payment(db, store)
    db.commit()
    assert "Next steps" not in client.get(overview).get_data(as_text=True)
    revoke_api_key(db, key)  # undone: the step comes back
    db.commit()
    page = client.get(overview).get_data(as_text=True)
    assert "Next steps" in page and "Create an API key" in page


def test_settings_update_as_admin(client, db, store):
    admin = make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    db.commit()
    login_as(client, admin)
    response = post_form(client, settings_url(store), {"name": "Acme Two", "slug": "acme-two", "currency": "GBP"})
    assert response.status_code == 303 and response.headers["Location"].endswith(settings_url(store))
    db.expire_all()
    assert (store.name, store.slug, store.currency) == ("Acme Two", "acme-two", "GBP")
    htmx = post_form(client, settings_url(store), {"name": "Acme Three", "slug": "acme-two", "currency": "GBP"}, headers=HX)
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == settings_url(store)


def test_invalid_settings_are_a_422_fragment_for_htmx(client, db, user, store):
    login_as(client, user)
    response = post_form(client, settings_url(store), {"name": "Acme", "slug": "Not Valid", "currency": "USD"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="settings-form"' in body
    assert 'id="slug-error"' in body and 'value="Not Valid"' in body
    db.expire_all()
    assert store.slug == "acme"


def test_settings_choose_the_portal_options_and_colour(client, db, user, store):
    login_as(client, user)
    page = client.get(settings_url(store)).get_data(as_text=True)
    assert 'href="/portal/acme/"' in page and "Customers may pause and resume" in page
    response = post_form(client, settings_url(store), {
        "name": "Acme", "slug": "acme", "currency": "USD", "portal_allow_pause": "y", "brand_color": " #4F46E5 ",
    })
    assert response.status_code == 303
    db.expire_all()
    assert (store.portal_allow_cancel, store.portal_allow_pause, store.brand_color) == (False, True, "#4f46e5")
    post_form(client, settings_url(store), {"name": "Acme", "slug": "acme", "currency": "USD", "portal_allow_cancel": "y"})
    db.expire_all()
    assert (store.portal_allow_cancel, store.portal_allow_pause, store.brand_color) == (True, False, None)


def test_a_bad_brand_colour_is_a_422_beside_the_field(client, db, user, store):
    login_as(client, user)
    response = post_form(client, settings_url(store), {
        "name": "Acme", "slug": "acme", "currency": "USD", "brand_color": "red; background:url(x)"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="brand_color-error"' in body
    assert "#rrggbb" in body
    db.expire_all()
    assert store.brand_color is None and store.portal_allow_cancel is True


def test_viewer_sees_settings_read_only(client, db, store):
    viewer = make_user(db)
    add_member(db, store, viewer, role=Role.VIEWER)
    db.commit()
    login_as(client, viewer)
    page = client.get(settings_url(store)).get_data(as_text=True)
    assert "/c/acme" in page and "USD" in page and 'href="/portal/acme/"' in page
    assert 'action="/dashboard/stores/%d/settings"' % store.id not in page
    assert "Delete store" not in page and "can see its settings but not change them" in page


def test_owner_deletes_the_store_by_typing_its_name(client, db, user, store):
    login_as(client, user)
    client.get(f"/dashboard/stores/{store.id}")  # remembered as the last store
    response = post_form(client, f"/dashboard/stores/{store.id}/delete", {"confirm_name": "Acme Goods"}, page=settings_url(store))
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 0
    assert "Create your first store" in client.get("/dashboard").get_data(as_text=True)


def test_delete_with_the_wrong_name_keeps_the_store(client, db, user, store):
    login_as(client, user)
    response = post_form(client, f"/dashboard/stores/{store.id}/delete", {"confirm_name": "acme goods"}, page=settings_url(store))
    assert response.status_code == 422 and "<html" in response.get_data(as_text=True)
    fragment = post_form(client, f"/dashboard/stores/{store.id}/delete", {"confirm_name": ""}, page=settings_url(store), headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 422 and "<html" not in body and 'id="danger-zone"' in body
    assert 'id="confirm_name-error"' in body
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 1


def test_a_store_that_has_taken_payments_is_kept_and_says_why(client, db, user, store):
    make_payment(db, store)
    db.commit()
    login_as(client, user)
    url = f"/dashboard/stores/{store.id}/delete"
    response = post_form(client, url, {"confirm_name": "Acme Goods"}, page=settings_url(store), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="confirm_name-error"' in body
    assert "has taken payments" in body
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 1


def test_htmx_delete_answers_hx_redirect(client, db, user, store):
    login_as(client, user)
    url = f"/dashboard/stores/{store.id}/delete"
    response = post_form(client, url, {"confirm_name": "Acme Goods"}, page=settings_url(store), headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/dashboard"


def test_admin_cannot_delete_and_does_not_see_the_danger_zone(client, db, store):
    admin = make_user(db)
    add_member(db, store, admin, role=Role.ADMIN)
    db.commit()
    login_as(client, admin)
    assert "Delete store" not in client.get(settings_url(store)).get_data(as_text=True)
    response = post_form(client, f"/dashboard/stores/{store.id}/delete", {"confirm_name": "Acme Goods"}, page=settings_url(store))
    assert response.status_code == 403
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 1
