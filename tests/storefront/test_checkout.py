"""The hosted checkout over HTTP: open, save details (plain and htmx), pay with each test card,
and the views of every outcome."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from checkie.catalog.models import PageStats
from checkie.checkout import services
from checkie.checkout.models import CheckoutSession, CheckoutSessionTransition, CheckoutState
from checkie.payments.models import Payment, PaymentAttempt
from tests.factories import make_coupon, make_field, make_shop
from tests.http import csrf_token, csrf_token_from, session_id_from

HTMX = {"HX-Request": "true"}
VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
INSUFFICIENT = "4000 0000 0000 9995"
THREE_D_SECURE = "4000 0027 6000 3184"


@pytest.fixture
def shop_page(db, store):
    page = make_shop(db, store).page
    make_coupon(db, store)  # SAVE10: 10 % off
    db.commit()
    return page


def open_checkout(client, page) -> tuple[str, str]:
    """Open the page and save it once, as a shopper's first change does (that creates the
    session); returns (session id, CSRF token)."""
    url = f"/c/{page.store.slug}/{page.slug}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    variant = page.variants[0]
    response = client.post(url, data={"csrf_token": token, f"variant_{variant.id}": str(variant.options[0].id)})
    assert response.status_code == 303
    return session_id_from(response.headers["Location"]), token


def details(page, token: str, **overrides) -> dict:
    variant = page.variants[0]
    data = {
        "csrf_token": token, "email": "sam@example.com", "name": "Sam Shopper",
        f"variant_{variant.id}": str(variant.options[1].id), "field_company": "Initech", "field_color": "Blue",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def card(number: str = VISA, **overrides) -> dict:
    return {"card_number": number, "card_expiry": "12/34", "card_cvc": "123", **overrides}


def load(db, session_id: str) -> CheckoutSession:
    db.expire_all()
    return db.get(CheckoutSession, session_id)


def pay(client, page, session_id, token, number=VISA, **overrides):
    return client.post(f"/c/s/{session_id}/pay", data={**details(page, token, **overrides), **card(number)})


# ---------------------------------------------------------------- opening and showing


def sessions_and_stats(db, page) -> tuple[int, int, int, int]:
    """(checkout sessions, transitions, views counted, sessions counted) of the page."""
    db.expire_all()
    stats = db.get(PageStats, page.id)
    return (db.scalar(sa.select(sa.func.count()).select_from(CheckoutSession)),
            db.scalar(sa.select(sa.func.count()).select_from(CheckoutSessionTransition)), stats.views, stats.sessions)


def test_opening_a_page_counts_a_view_and_writes_nothing_else(client, db, shop_page):
    """SPEC §6.1: link previews and bots must not create sessions (45 curls used to be 45)."""
    for _ in range(3):
        response = client.get("/c/acme/tee")
        assert response.status_code == 200
    assert sessions_and_stats(db, shop_page) == (0, 0, 3, 0)

    html = response.get_data(as_text=True)
    assert "T-shirt" in html and "Soft organic cotton." in html and "$20.00" in html
    assert "TEST MODE" in html and 'name="card_number"' in html
    assert 'for="checkout-email"' in html and 'for="checkout-field_company"' in html
    assert 'name="variant_' in html and 'type="radio"' in html
    assert 'name="coupon_code"' in html and 'name="csrf_token"' in html
    assert "htmx.min.js" in html and "css/checkout.css" in html
    assert "sidebar" not in html and "Acme Goods" in html  # the store's name, no dashboard chrome
    assert 'action="/c/acme/tee"' in html and 'formaction="/c/acme/tee/pay"' in html and "/c/s/" not in html


def test_the_first_save_creates_the_session_and_goes_on_at_its_url(client, db, shop_page):
    token = csrf_token_from(client.get("/c/acme/tee").get_data(as_text=True))
    response = client.post("/c/acme/tee", data=details(shop_page, token))
    assert response.status_code == 303
    session_id = session_id_from(response.headers["Location"])
    checkout = load(db, session_id)
    assert checkout.state is CheckoutState.OPEN and checkout.email == "sam@example.com" and checkout.total == 2500
    assert sessions_and_stats(db, shop_page) == (1, 1, 1, 1)  # the view when shown, the session now
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert f'action="/c/s/{session_id}"' in html and 'value="sam@example.com"' in html
    assert sessions_and_stats(db, shop_page)[2:] == (1, 1)  # continuing is no new view


def test_the_first_htmx_save_points_the_form_at_the_session(client, db, shop_page):
    """Only the controls that post are swapped (out of band): what the shopper types meanwhile stays."""
    token = csrf_token_from(client.get("/c/acme/tee").get_data(as_text=True))
    response = client.post("/c/acme/tee", data=details(shop_page, token, email=""), headers=HTMX)
    assert response.status_code == 200
    [session_id] = db.scalars(sa.select(CheckoutSession.id))
    assert response.headers["HX-Push-Url"] == f"/c/s/{session_id}"
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html and 'name="email"' not in html
    assert html.lstrip().startswith('<section id="checkout-summary"') and "$25.00" in html
    for control in ("checkout-save", "checkout-autosave", "checkout-coupon", "checkout-pay"):
        assert re.search(f'id="{control}"[^>]*hx-swap-oob="true"', html), control
    assert html.count(f'hx-post="/c/s/{session_id}"') == 3  # Save, the autosave, Apply
    assert f'formaction="/c/s/{session_id}/pay"' in html and "/c/acme/tee" not in html
    # Later changes go to the session: no second session.
    assert client.post(f"/c/s/{session_id}", data=details(shop_page, token), headers=HTMX).status_code == 200
    assert sessions_and_stats(db, shop_page) == (1, 2, 1, 1)


def test_a_first_pay_creates_the_session_with_the_payment(client, db, shop_page):
    token = csrf_token_from(client.get("/c/acme/tee").get_data(as_text=True))
    response = client.post("/c/acme/tee/pay", data={**details(shop_page, token), **card()})
    assert response.status_code == 303
    checkout = load(db, session_id_from(response.headers["Location"]))
    assert checkout.state is CheckoutState.COMPLETED and checkout.total == 2500
    assert sessions_and_stats(db, shop_page)[2:] == (1, 1)


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_refused_first_save_or_pay_creates_no_session(client, db, shop_page, headers):
    token = csrf_token_from(client.get("/c/acme/tee").get_data(as_text=True))
    refused = [
        client.post("/c/acme/tee", data=details(shop_page, token, email="not-an-email"), headers=headers),
        client.post("/c/acme/tee", data=details(shop_page, token, coupon_code="NOPE", coupon_action="apply"),
                    headers=headers),
        client.post("/c/acme/tee/pay", data={**details(shop_page, token), **card("4111 1111 1111 1111")}),
        client.post("/c/acme/tee/pay", data={**details(shop_page, token, field_company=""), **card()}),
    ]
    assert [response.status_code for response in refused] == [422] * 4
    assert sessions_and_stats(db, shop_page) == (0, 0, 1, 0)
    assert "Enter a valid email address." in refused[0].get_data(as_text=True)
    assert "This code does not exist." in refused[1].get_data(as_text=True)
    assert "This field is required." in refused[3].get_data(as_text=True)
    # The summary follows the size just chosen, though nothing was saved.
    assert "$25.00" in refused[0].get_data(as_text=True)


def test_the_forms_controls_are_labelled_as_every_form_field_is(client, db, shop_page):
    """The form macro's rules (templates/_macros/forms.html): a required control says so in its
    label, the limits the server checks are the input's too."""
    session_id, _ = open_checkout(client, shop_page)
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    required = '<span aria-hidden="true" class="required">*</span></label>'
    for name, label in [("email", "Email"), ("card_number", "Card number"), ("card_expiry", "Expiry (MM/YY)"),
                        ("card_cvc", "CVC")]:
        assert f'<label for="checkout-{name}">{label} {required}' in html
    assert '<label for="checkout-name">Name</label>' in html
    assert 'id="checkout-email" maxlength="254" name="email" required type="email"' in html


def test_unpublished_page_and_unknown_session_are_404(client, db, store):
    make_shop(db, store, publish=False)
    db.commit()
    assert client.get("/c/acme/tee").status_code == 404
    assert client.get("/c/nope/tee").status_code == 404
    assert client.get("/c/s/cs_doesnotexist").status_code == 404
    assert client.get("/c/s/cs_doesnotexist/status").status_code == 404
    token = csrf_token(client)
    assert client.post("/c/acme/tee", data={"csrf_token": token, "email": "nope"}).status_code == 404
    assert client.post("/c/acme/tee/pay", data={"csrf_token": token, **card()}).status_code == 404


# ---------------------------------------------------------------- saving details


def test_saving_valid_details_redirects_and_stores_them(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/s/{session_id}")
    checkout = load(db, session_id)
    assert (checkout.email, checkout.name) == ("sam@example.com", "Sam Shopper")
    assert checkout.custom_fields == {"company": "Initech", "color": "Blue"}
    assert checkout.total == 2500  # size L: +5.00
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert 'value="sam@example.com"' in html and 'value="Initech"' in html and "$25.00" in html


def test_saving_invalid_details_shows_errors_beside_the_fields(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, email="not-an-email", field_color="Green"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<small id="checkout-email-error" class="field-error">Enter a valid email address.</small>' in html
    assert '<small id="checkout-field_color-error" class="field-error">Choose one of the options.</small>' in html
    assert 'aria-describedby="checkout-email-error" aria-invalid="true"' in html
    assert 'value="not-an-email"' in html  # what was typed stays
    checkout = load(db, session_id)
    assert checkout.email is None
    # The valid parts were saved all the same: the total follows the chosen size.
    assert checkout.total == 2500 and checkout.name == "Sam Shopper"


def test_htmx_save_returns_only_the_summary_with_errors_out_of_band(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert html.lstrip().startswith('<section id="checkout-summary"')
    assert "$25.00" in html
    assert 'id="checkout-email-error" class="field-error" hx-swap-oob="true"></small>' in html
    assert "HX-Request" in response.headers["Vary"]

    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, email="nope"), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<form" not in html
    assert 'hx-swap-oob="true">Enter a valid email address.</small>' in html


def test_a_whole_page_for_htmx_carries_nothing_out_of_band(client, db, shop_page):
    """Only the fragments the view picks for htmx carry out-of-band pieces: a whole page asked by
    htmx (restoring its history) has one price summary, and every error slot once."""
    session_id, token = open_checkout(client, shop_page)
    client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="SAVE10", coupon_action="apply"))
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    html = client.get(f"/c/s/{session_id}", headers=restore).get_data(as_text=True)
    assert "<html" in html and "hx-swap-oob" not in html
    assert html.count('id="checkout-summary"') == 1 and html.count('id="checkout-email-error"') == 1


def test_coupon_apply_and_remove(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(
        f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="save10", coupon_action="apply"), headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="checkout-coupon"')
    assert "SAVE10" in html and "Remove" in html
    assert '<section id="checkout-summary"' in html and 'hx-swap-oob="true"' in html
    assert "−$2.50" in html and "$22.50" in html
    assert load(db, session_id).total == 2250

    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="NOPE", coupon_action="apply"))
    assert response.status_code == 422
    assert "This code does not exist." in response.get_data(as_text=True)

    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_action="remove"))
    assert response.status_code == 303
    checkout = load(db, session_id)
    assert checkout.coupon_id is None and checkout.total == 2500


# ---------------------------------------------------------------- paying


def test_refused_card_number_is_422_and_changes_nothing(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = pay(client, shop_page, session_id, token, number="4111 1111 1111 1111")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<small id="checkout-card_number-error" class="field-error">This card number is not accepted in test mode.' in html
    checkout = load(db, session_id)
    assert checkout.state is CheckoutState.OPEN and checkout.attempt_count == 0 and checkout.email is None
    assert db.scalar(sa.select(sa.func.count(PaymentAttempt.id))) == 0


def test_bad_expiry_and_cvc_are_refused_beside_their_fields(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(
        f"/c/s/{session_id}/pay", data={**details(shop_page, token), **card(card_expiry="13/99", card_cvc="12")}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the expiry as MM/YY." in html and "Enter the 3 or 4 digits." in html
    assert load(db, session_id).attempt_count == 0


def test_paying_without_a_required_field_shows_the_guard_error(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = pay(client, shop_page, session_id, token, field_company="")
    assert response.status_code == 422
    assert '<small id="checkout-field_company-error" class="field-error">This field is required.</small>' in \
        response.get_data(as_text=True)
    checkout = load(db, session_id)
    assert checkout.state is CheckoutState.OPEN and checkout.attempt_count == 0
    assert checkout.email == "sam@example.com"  # the details were kept


def test_paying_with_4242_completes_and_shows_the_receipt(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="SAVE10", coupon_action="apply"))
    response = pay(client, shop_page, session_id, token)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/s/{session_id}")
    checkout = load(db, session_id)
    assert checkout.state is CheckoutState.COMPLETED
    payment = db.scalar(sa.select(Payment).where(Payment.session_id == session_id))
    assert payment.amount == 2250

    page = client.get(f"/c/s/{session_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Thank you" in html and "T-shirt" in html and "$22.50" in html and "SAVE10" in html
    assert "A receipt was sent to <strong>sam@example.com</strong>" in html
    assert 'href="https://shop.example/thanks"' in html and "Continue" in html

    # The session is done: more changes are a conflict.
    again = pay(client, shop_page, session_id, token)
    assert again.status_code == 409
    assert "This checkout can no longer be changed" in again.get_data(as_text=True)
    assert client.post(f"/c/s/{session_id}", data=details(shop_page, token)).status_code == 409


@pytest.mark.parametrize(("number", "reason"), [(DECLINED, "Your card was declined."), (INSUFFICIENT, "Insufficient funds.")])
def test_a_decline_shows_the_reason_and_attempts_left(client, db, shop_page, number, reason):
    session_id, token = open_checkout(client, shop_page)
    response = pay(client, shop_page, session_id, token, number=number)
    assert response.status_code == 303
    assert load(db, session_id).state is CheckoutState.OPEN
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert reason in html and "2 attempts left." in html
    assert 'value="sam@example.com"' in html  # still filled in


def test_three_declines_expire_the_checkout(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    for left in (2, 1):
        pay(client, shop_page, session_id, token, number=DECLINED)
        assert f"{left} attempt{'s' if left > 1 else ''} left." in client.get(f"/c/s/{session_id}").get_data(as_text=True)
    pay(client, shop_page, session_id, token, number=DECLINED)
    assert load(db, session_id).state is CheckoutState.EXPIRED
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert "The payment attempts ran out" in html and "No payment attempts left ·" in html
    assert "Your card was declined. A checkout allows 3 payment attempts, and none is left." in html
    assert "expired" not in html
    assert 'href="/c/acme/tee"' in html and "Start again" in html


def test_a_timed_out_checkout_says_it_expired(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    pay(client, shop_page, session_id, token, number=DECLINED)
    services.expire_due_checkouts(db, load(db, session_id).expires_at)
    db.commit()
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert "This checkout has expired" in html and "attempts ran out" not in html


def test_3ds_card_redirects_to_the_authentication_page_and_back(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = pay(client, shop_page, session_id, token, number=THREE_D_SECURE)
    assert response.status_code == 303
    attempt = db.scalar(sa.select(PaymentAttempt).where(PaymentAttempt.session_id == session_id))
    assert response.headers["Location"] == f"/test-provider/3ds/{attempt.action_token}"
    assert load(db, session_id).state is CheckoutState.AWAITING_ACTION

    waiting = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert "Confirm your payment" in waiting and f'href="/test-provider/3ds/{attempt.action_token}"' in waiting

    threeds = client.get(response.headers["Location"])
    assert threeds.status_code == 200
    done = client.post(response.headers["Location"], data={"csrf_token": csrf_token_from(threeds.get_data(as_text=True)),
                                                           "outcome": "complete"})
    assert done.status_code == 303 and done.headers["Location"] == f"/c/s/{session_id}"
    assert load(db, session_id).state is CheckoutState.COMPLETED
    assert "Thank you" in client.get(f"/c/s/{session_id}").get_data(as_text=True)


def test_failed_authentication_says_so(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    location = pay(client, shop_page, session_id, token, number=THREE_D_SECURE).headers["Location"]
    threeds = client.get(location)
    client.post(location, data={"csrf_token": csrf_token_from(threeds.get_data(as_text=True)), "outcome": "fail"})
    assert load(db, session_id).state is CheckoutState.OPEN
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert "Authentication failed." in html and "2 attempts left." in html


# ---------------------------------------------------------------- processing and polling


def test_processing_view_polls_the_status_fragment(client, db, shop_page):
    session_id, _ = open_checkout(client, shop_page)
    checkout = load(db, session_id)
    checkout.state = CheckoutState.PROCESSING  # set-up only: as if the provider had not answered yet
    db.commit()
    html = client.get(f"/c/s/{session_id}").get_data(as_text=True)
    assert "Processing your payment" in html
    assert f'hx-get="/c/s/{session_id}/status" hx-trigger="every 2s"' in html
    assert f'<a href="/c/s/{session_id}">Refresh</a>' in html

    fragment = client.get(f"/c/s/{session_id}/status", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and body.lstrip().startswith('<section id="checkout-status"')
    plain = client.get(f"/c/s/{session_id}/status")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/c/s/{session_id}")

    checkout = load(db, session_id)
    checkout.state = CheckoutState.COMPLETED
    db.commit()
    decided = client.get(f"/c/s/{session_id}/status", headers=HTMX)
    assert decided.headers["HX-Redirect"] == f"/c/s/{session_id}"


def test_abandoned_checkout_shows_the_expired_page(client, db, shop_page):
    session_id, _ = open_checkout(client, shop_page)
    services.abandon_checkout(db, load(db, session_id))
    db.commit()
    response = client.get(f"/c/s/{session_id}")
    assert response.status_code == 200
    assert "This checkout was cancelled" in response.get_data(as_text=True)


def test_checkout_page_with_its_assets_fits_the_budget(client, db, shop_page):
    """SPEC §12: the hosted checkout in test mode is at most 60 KB transferred (gzip)."""
    import gzip
    import re

    session_id, _ = open_checkout(client, shop_page)
    html = client.get(f"/c/s/{session_id}").get_data()
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)
    assert any(b"htmx" in asset for asset in assets) and any(b"checkout.css" in asset for asset in assets)
    total = len(gzip.compress(html))
    for asset in assets:
        response = client.get(asset.decode())
        assert response.status_code == 200
        total += len(gzip.compress(response.get_data()))
        response.close()
    assert total <= 60 * 1024, f"{total} bytes gzip"


# ---------------------------------------------------------------- the summary follows the form (issue 10, item 2)


@pytest.fixture
def minimum_coupon(db, store, shop_page):
    """SAVE5: $5.00 off orders of $25.00 or more (the T-shirt in L)."""
    make_coupon(db, store, code="SAVE5", amount_off=500, minimum_amount=2500)
    db.commit()


def small(page) -> dict:
    variant = page.variants[0]
    return {f"variant_{variant.id}": str(variant.options[0].id)}


def test_a_change_below_the_coupons_minimum_is_saved_and_drops_the_coupon_htmx(client, db, shop_page, minimum_coupon):
    session_id, token = open_checkout(client, shop_page)
    client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="SAVE5", coupon_action="apply"))
    assert load(db, session_id).total == 2000

    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, **small(shop_page)), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    checkout = load(db, session_id)
    assert (checkout.coupon_id, checkout.total) == (None, 2000)
    assert checkout.variant_options == {str(shop_page.variants[0].id): shop_page.variants[0].options[0].id}
    assert html.lstrip().startswith('<section id="checkout-summary"') and "−$5.00" not in html
    assert '<div><dt>Size</dt><dd>S</dd></div>' in html
    assert re.search(r'<div id="checkout-coupon" [^>]*hx-swap-oob="true"', html)
    assert "Coupon SAVE5 was removed: this order is below its $25.00 minimum." in html
    assert "applied" not in html and 'name="coupon_code"' in html
    assert re.search(r'id="checkout-pay"[^>]*hx-swap-oob="innerHTML">Pay \$20\.00</button>', html)


def test_a_change_below_the_coupons_minimum_is_saved_and_drops_the_coupon_without_javascript(
        client, db, shop_page, minimum_coupon):
    session_id, token = open_checkout(client, shop_page)
    client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="SAVE5", coupon_action="apply"))
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, **small(shop_page)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Coupon SAVE5 was removed: this order is below its $25.00 minimum." in html
    assert "Coupon <strong" not in html and ">Pay $20.00</button>" in html
    option = shop_page.variants[0].options[0]
    assert re.search(f'id="checkout-variant_{shop_page.variants[0].id}-{option.id}"[^>]* checked', html)
    assert load(db, session_id).total == 2000
    # Paying now charges what the summary says, with no coupon message left over.
    paid = pay(client, shop_page, session_id, token, **small(shop_page))
    assert paid.status_code == 303 and load(db, session_id).state is CheckoutState.COMPLETED
    assert db.scalar(sa.select(Payment.amount).where(Payment.session_id == session_id)) == 2000


def test_a_refused_htmx_save_always_says_why(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, email="nope", field_color="Green"),
                           headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="checkout-email-error" class="field-error" hx-swap-oob="true">Enter a valid email address.' in html
    assert 'id="checkout-field_color-error" class="field-error" hx-swap-oob="true">Choose one of the options.' in html
    assert 'id="checkout-coupon_code-error" class="field-error" hx-swap-oob="true">' in html
    # A session that moved on: htmx is sent to its page, which says so (a 409 would not be swapped).
    checkout = load(db, session_id)
    services.abandon_checkout(db, checkout)
    db.commit()
    conflict = client.post(f"/c/s/{session_id}", data=details(shop_page, token), headers=HTMX)
    assert conflict.headers["HX-Redirect"] == f"/c/s/{session_id}"


# ---------------------------------------------------------------- every error at once (issue 10, item 6)


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_pay_reports_every_field_error_at_once(client, db, store, shop_page, headers):
    make_field(db, shop_page, label="Delivery date", key="delivery", type="date", required=True)
    db.commit()
    session_id, token = open_checkout(client, shop_page)
    response = pay(client, shop_page, session_id, token, number="4111 1111 1111 1111", email="not-an-email",
                   field_delivery="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for control, message in [("email", "Enter a valid email address."), ("field_delivery", "This field is required."),
                             ("card_number", "This card number is not accepted in test mode.")]:
        assert f'<small id="checkout-{control}-error" class="field-error">{message}' in html, control
    checkout = load(db, session_id)
    assert checkout.attempt_count == 0 and checkout.email is None


def test_pay_with_a_good_card_still_lists_every_missing_detail(client, db, store, shop_page):
    make_field(db, shop_page, label="Delivery date", key="delivery", type="date", required=True)
    db.commit()
    session_id, token = open_checkout(client, shop_page)
    response = pay(client, shop_page, session_id, token, email="not-an-email", field_company="", field_delivery="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a valid email address." in html
    assert '<small id="checkout-field_company-error" class="field-error">This field is required.' in html
    assert '<small id="checkout-field_delivery-error" class="field-error">This field is required.' in html


def test_a_save_reports_the_forms_and_the_services_errors_together(client, db, shop_page):
    session_id, token = open_checkout(client, shop_page)
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, name="N" * 201, email="nope",
                                                                field_color="Green"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<small id="checkout-name-error" class="field-error">Field cannot be longer than 200 characters.' in html
    assert '<small id="checkout-email-error" class="field-error">Enter a valid email address.' in html
    assert '<small id="checkout-field_color-error" class="field-error">Choose one of the options.' in html
    checkout = load(db, session_id)
    assert checkout.name is None and checkout.email is None and checkout.total == 2500  # the valid parts saved


# ---------------------------------------------------------------- the Pay button (issue 10, item 14)


def test_the_pay_button_shows_the_total_and_follows_the_summary(client, db, shop_page):
    assert ">Pay $20.00</button>" in client.get("/c/acme/tee").get_data(as_text=True)
    session_id, token = open_checkout(client, shop_page)
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token), headers=HTMX)  # size L
    # only its label: the button a shopper may be clicking stays in the page
    assert re.search(r'id="checkout-pay"[^>]*hx-swap-oob="innerHTML">Pay \$25\.00</button>', response.get_data(as_text=True))
    response = client.post(f"/c/s/{session_id}", data=details(shop_page, token, coupon_code="SAVE10",
                                                                coupon_action="apply"), headers=HTMX)
    assert re.search(r'id="checkout-pay"[^>]*hx-swap-oob="innerHTML">Pay \$22\.50</button>', response.get_data(as_text=True))
    assert ">Pay $22.50</button>" in client.get(f"/c/s/{session_id}").get_data(as_text=True)
