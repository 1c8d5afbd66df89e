"""Signing a test client in to the portal the way a customer does: a link, then its button."""
from __future__ import annotations

from checkie.customers import portal
from checkie.customers.models import PortalLinkKind
from tests.http import post_form


def sign_in_client(client, db, customer) -> None:
    """Sign `client` in to the customer's portal through a fresh link and its button."""
    _, token = portal.issue_link(db, customer, kind=PortalLinkKind.MERCHANT)
    db.commit()
    response = post_form(client, f"/portal/verify/{token}")
    assert response.status_code == 303, response.status_code
