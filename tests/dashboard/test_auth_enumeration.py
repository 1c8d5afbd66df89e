"""No page tells a visitor whether an address has an account (SPEC §9).

Each scenario is played for a known and an unknown address, each from a fresh browser; the
answers must match in status, redirect and body, once CSRF tokens and the typed address
itself are blanked out."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from checkie.accounts import tasks
from checkie.accounts.models import PasswordResetRequest
from checkie.extensions import db as _db
from tests.apps import app_db
from tests.emails import emails_to
from tests.factories import DEFAULT_PASSWORD, verified_user
from tests.http import csrf_token, post_form, without_volatile

KNOWN = "known@example.com"
UNKNOWN = "stranger@example.com"


@pytest.fixture(autouse=True)
def known_account(app):
    with app_db(app) as db:
        verified_user(db, email=KNOWN)


def _answer(app, url: str, data: dict, follow: bool) -> tuple[int, str | None, str]:
    """(status, Location, page) of posting `data` from a fresh browser, following one redirect."""
    client = app.test_client()
    response = post_form(client, url, data)
    location = response.headers.get("Location")
    page = client.get(location) if follow and location else response
    return response.status_code, location, without_volatile(page.get_data(as_text=True), KNOWN, UNKNOWN)


def _same_for_both(app, url: str, data: dict, *, follow: bool = False) -> tuple[int, str | None, str]:
    known = _answer(app, url, {**data, "email": KNOWN}, follow)
    unknown = _answer(app, url, {**data, "email": UNKNOWN}, follow)
    assert known == unknown
    return known


def test_register_answers_the_same_for_a_known_and_an_unknown_address(app):
    status, location, page = _same_for_both(app, "/register", {"name": "Eve", "password": "a long enough password"}, follow=True)
    assert (status, location) == (303, "/register/check-inbox") and "Check your inbox" in page
    with app_db(app) as db:  # the difference only reaches the inbox
        assert [m.kind for m in emails_to(db, KNOWN)] == ["already_registered"]
        assert [m.kind for m in emails_to(db, UNKNOWN)] == ["verify_email"]


def test_register_errors_do_not_depend_on_the_address(app):
    status, _, page = _same_for_both(app, "/register", {"name": "Eve", "password": "short"})
    assert status == 422 and "Use at least 10 characters." in page


def test_login_fails_the_same_for_an_unknown_address_and_a_wrong_password(app):
    status, location, page = _same_for_both(app, "/login", {"password": "not the password"})
    assert (status, location) == (422, None) and "Invalid email or password." in page


def test_login_with_the_right_password_of_another_account_reveals_nothing(app):
    status, _, page = _same_for_both(app, "/login", {"password": DEFAULT_PASSWORD + "!"})
    assert status == 422 and "Invalid email or password." in page


def test_forgot_password_answers_the_same_for_a_known_and_an_unknown_address(app):
    status, location, page = _same_for_both(app, "/forgot-password", {}, follow=True)
    assert (status, location) == (303, "/forgot-password/check-inbox") and "Check your inbox" in page
    with app_db(app) as db:
        assert [m.kind for m in emails_to(db, KNOWN)] == ["password_reset"]
        assert emails_to(db, UNKNOWN) == []


@contextmanager
def _statements(app):
    """Every SQL statement the app runs meanwhile, in order."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = _db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _forgot_over_the_form(app, email: str):
    client = app.test_client()
    token = csrf_token(client, "/forgot-password")
    return lambda: client.post("/forgot-password", data={"csrf_token": token, "email": email})


def _forgot_over_the_api(app, email: str):
    client = app.test_client()
    return lambda: client.post("/api/auth/forgot-password", json={"email": email})


@pytest.mark.parametrize("door", [_forgot_over_the_form, _forgot_over_the_api])
def test_forgot_password_does_the_same_work_for_a_known_and_an_unknown_address(app, monkeypatch, door):
    """Its timing must not tell either (7 ms against 4 ms before): the request runs the same SQL
    and queues the same task for both; the task decides whether an account exists."""
    queued: list[tuple] = []
    monkeypatch.setattr(tasks, "email_password_reset", lambda *args: queued.append(args))
    work = {}
    for email in (KNOWN, UNKNOWN):
        request = door(app, email)
        with _statements(app) as statements:
            assert request().status_code in {202, 303}
        work[email] = statements
    assert work[KNOWN] == work[UNKNOWN]
    assert len(queued) == 2 and queued[0] != queued[1]
    with app_db(app) as db:
        waiting = db.scalars(sa.select(PasswordResetRequest).order_by(PasswordResetRequest.id)).all()
        assert [(r.id,) for r in waiting] == queued and [r.email for r in waiting] == [KNOWN, UNKNOWN]
