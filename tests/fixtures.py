"""Factories (plain functions with keyword overrides) and HTTP helpers shared by the suite."""
from __future__ import annotations

import re
from functools import lru_cache

import pytest
from sqlalchemy.orm import object_session

from checkie.accounts.browser_sessions import start_session
from checkie.accounts.models import User
from checkie.dashboard.logins import SESSION_TOKEN_KEY
from checkie.database import utcnow
from checkie.security import hash_password
from checkie.stores.models import MemberStatus, Role, Store, StoreMember

DEFAULT_PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


@lru_cache
def _default_password_hash() -> str:
    return hash_password(DEFAULT_PASSWORD)


def make_user(db, *, email: str | None = None, name: str = "Ada Merchant", password: str = DEFAULT_PASSWORD) -> User:
    email = email or f"user{db.query(User).count() + 1}@example.com"
    pw_hash = _default_password_hash() if password == DEFAULT_PASSWORD else hash_password(password)
    user = User(email=email.lower(), name=name, password_hash=pw_hash)
    db.add(user)
    db.flush()
    return user


def make_store(db, *, owner: User | None = None, name: str = "Acme Goods", slug: str | None = None, currency: str = "USD") -> Store:
    owner = owner or make_user(db)
    slug = slug or f"{name.lower().replace(' ', '-')}-{db.query(Store).count() + 1}"
    store = Store(name=name, slug=slug, currency=currency, owner=owner)
    db.add(store)
    db.flush()
    add_member(db, store, owner, role=Role.OWNER)
    return store


def add_member(db, store: Store, user: User, *, role: Role = Role.ADMIN) -> StoreMember:
    member = StoreMember(store=store, user=user, email=user.email, role=role, status=MemberStatus.ACTIVE, joined_at=utcnow())
    db.add(member)
    db.flush()
    return member


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def csrf_token(client, page: str = "/login") -> str:
    """A valid CSRF token for this client's session, read from a page it renders."""
    return csrf_token_from(client.get(page).get_data(as_text=True))


def post_form(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """POST a form as a browser would: with the CSRF token from `page` (default: `url`)."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, page or url))
    return client.post(url, data=data, **kwargs)


def login(client, user: User) -> None:
    """Sign `client` in as `user` without going through the login form: a server-side session
    row, committed with whatever the user's database session holds, and its token in the cookie."""
    db = object_session(user)
    token = start_session(db, user)
    db.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session[SESSION_TOKEN_KEY] = token
        session["_fresh"] = True


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def access_token_for(app, user: User) -> str:
    from checkie.accounts.tokens import create_access_token

    return create_access_token(
        user.id, user.session_epoch, secret=app.config["JWT_SECRET"], ttl=app.config["JWT_EXPIRATION"]
    )


@pytest.fixture
def user(db):
    user = make_user(db, email="owner@example.com", name="Olive Owner")
    db.commit()
    return user


@pytest.fixture
def store(db, user):
    store = make_store(db, owner=user, name="Acme Goods", slug="acme")
    db.commit()
    return store
