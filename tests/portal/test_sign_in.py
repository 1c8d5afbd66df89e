"""Signing in to the portal (SPEC §6.4, §9): the link read from a real SMTP server, the same
answer for every address, rate limits, links that only a POST consumes, and the friendly pages
for used, expired, replaced and unknown links."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.customers import portal
from checkie.customers.models import PortalLink, PortalLinkKind
from checkie.database import utcnow
from checkie.notifications.models import EmailMessage
from tests.factories import make_customer, make_store, make_user
from tests.http import login, post_form, without_volatile
from tests.portal.inbox import portal_link
from tests.portal.signing import sign_in_client


def ask(client, email: str, *, ip: str = "203.0.113.7", slug: str = "acme"):
    return post_form(client, f"/portal/{slug}/", {"email": email}, environ_base={"REMOTE_ADDR": ip})


def link_row(db) -> PortalLink:
    db.expire_all()
    return db.scalars(sa.select(PortalLink).order_by(PortalLink.id.desc())).first()


def test_the_emailed_link_opens_the_portal_only_when_its_button_is_pressed(client, db, customer, smtp):
    asked = ask(client, "Bea@Example.com")
    assert asked.status_code == 200
    assert "a sign-in link is on its way" in asked.get_data(as_text=True)

    (message,) = smtp.messages
    assert message["To"] == "bea@example.com" and "Acme Goods" in message["Subject"]
    url, token = portal_link(message)
    assert url == f"http://localhost/portal/verify/{token}"

    opened = client.get(url)
    assert opened.status_code == 200
    assert "Sign in to Acme Goods" in opened.get_data(as_text=True)
    assert link_row(db).used_at is None  # a mail scanner's GET uses nothing

    signed_in = post_form(client, url)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/portal/acme/home"
    assert link_row(db).used_at is not None
    home = client.get("/portal/acme/home")
    assert home.status_code == 200 and "bea@example.com" in home.get_data(as_text=True)


def test_known_and_unknown_addresses_get_the_same_answer(client, db, customer, smtp):
    known = ask(client, "bea@example.com")
    unknown = ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert without_volatile(known.get_data(as_text=True), "bea@example.com") == \
        without_volatile(unknown.get_data(as_text=True), "nobody@example.com")
    assert [m["To"] for m in smtp.messages] == ["bea@example.com"]
    assert db.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 1


def test_a_customer_of_another_store_gets_no_link_here(client, db, store, smtp):
    other = make_store(db, owner=make_user(db, email="zed@example.com"), name="Other", slug="other")
    make_customer(db, other, email="bea@example.com")
    db.commit()
    assert ask(client, "bea@example.com").status_code == 200
    assert smtp.messages == []


def test_an_address_that_is_no_address_is_refused_next_to_the_field(client, store):
    response = ask(client, "")
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_an_unknown_store_is_a_404(client):
    assert client.get("/portal/no-such-store/").status_code == 404
    assert ask(client, "bea@example.com", slug="no-such-store").status_code == 404


def test_links_are_rate_limited_per_ip(client, store):
    answers = [ask(client, f"person{n}@example.com").status_code for n in range(21)]
    assert answers == [200] * 20 + [429]
    assert ask(client, "someone@example.com", ip="198.51.100.1").status_code == 200


def test_links_are_rate_limited_per_address_whatever_the_ip(client, store):
    answers = [ask(client, "Bea@example.com", ip=f"198.51.100.{n}").status_code for n in range(6)]
    assert answers == [200] * 5 + [429]
    refused = ask(client, "bea@EXAMPLE.com", ip="192.0.2.1")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many requests" in page and "Acme Goods" in page


def test_a_used_link_is_refused_with_a_way_to_ask_again(client, db, customer):
    _, token = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    db.commit()
    assert client.get(f"/portal/verify/{token}").status_code == 200
    assert client.get(f"/portal/verify/{token}").status_code == 200
    assert post_form(client, f"/portal/verify/{token}").status_code == 303

    again = client.get(f"/portal/verify/{token}")
    assert again.status_code == 410
    page = again.get_data(as_text=True)
    assert "already used" in page and 'href="/portal/acme/"' in page
    other = client.application.test_client()
    assert post_form(other, f"/portal/verify/{token}").status_code == 410
    assert other.get("/portal/acme/home").status_code == 303


def test_an_expired_link_is_refused(client, db, customer, monkeypatch):
    _, token = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    db.commit()
    later = utcnow() + portal.LINK_LIFETIME + timedelta(seconds=1)
    monkeypatch.setattr(portal, "utcnow", lambda: later)
    for response in (client.get(f"/portal/verify/{token}"), post_form(client, f"/portal/verify/{token}")):
        assert response.status_code == 410
        assert "expired" in response.get_data(as_text=True)
    assert link_row(db).used_at is None


def test_a_replaced_link_is_refused_and_the_newer_one_works(client, db, customer):
    _, older = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    _, newer = portal.issue_link(db, customer, kind=PortalLinkKind.REQUESTED)
    db.commit()
    refused = post_form(client, f"/portal/verify/{older}")
    assert refused.status_code == 410 and "newer sign-in link" in refused.get_data(as_text=True)
    assert post_form(client, f"/portal/verify/{newer}").status_code == 303


@pytest.mark.parametrize("token", ["no-such-token", "x" * 40, "a" * 300])
def test_an_unknown_link_gets_a_generic_page(client, token):
    response = client.get(f"/portal/verify/{token}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "not valid" in page and "/portal/acme/" not in page


def test_signing_in_again_ends_the_previous_portal_session(app, client, db, customer):
    sign_in_client(client, db, customer)
    copied = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    sign_in_client(client, db, customer)
    stale = app.test_client()
    stale.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    assert stale.get("/portal/acme/home").status_code == 303
    assert client.get("/portal/acme/home").status_code == 200


def test_signing_in_to_the_portal_keeps_a_merchants_dashboard_login(client, db, user, store, customer):
    login(client, user)
    assert client.get(f"/dashboard/stores/{store.id}").status_code == 200
    sign_in_client(client, db, customer)
    assert client.get(f"/dashboard/stores/{store.id}").status_code == 200
    assert client.get("/portal/acme/home").status_code == 200
    assert post_form(client, "/portal/acme/sign-out", page="/portal/acme/home").status_code == 303
    assert client.get(f"/dashboard/stores/{store.id}").status_code == 200
