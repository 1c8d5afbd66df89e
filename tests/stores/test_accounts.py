"""Deleting an account, which a store the user owns refuses (checkie.stores.accounts)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkie.accounts import refresh
from checkie.accounts.models import RefreshToken, User
from checkie.errors import Conflict, ValidationFailed
from checkie.stores.accounts import delete_user, owned_stores
from tests.factories import DEFAULT_PASSWORD, add_member, make_store, verified_user


def _fields(excinfo) -> set[str]:
    return set(excinfo.value.fields)


def test_delete_user_needs_the_password(db):
    user = verified_user(db)
    with pytest.raises(ValidationFailed) as excinfo:
        delete_user(db, user, password="wrong password")
    assert _fields(excinfo) == {"password"}


def test_a_store_owner_cannot_delete_the_account(db):
    user = verified_user(db)
    make_store(db, owner=user, name="Acme Goods")
    db.commit()
    with pytest.raises(Conflict) as excinfo:
        delete_user(db, user, password=DEFAULT_PASSWORD)
    assert "Acme Goods" in excinfo.value.message and "Delete" in excinfo.value.message


def test_deleting_removes_the_user_their_memberships_and_tokens(db):
    member = verified_user(db)
    store = make_store(db, name="Other Store")
    add_member(db, store, member)
    refresh.issue_token_pair(db, member)
    db.commit()
    member_id = member.id
    delete_user(db, member, password=DEFAULT_PASSWORD)
    db.commit()
    assert db.get(User, member_id) is None
    assert owned_stores(db, store.owner) == [store]
    assert db.scalar(sa.select(sa.func.count(RefreshToken.id)).where(RefreshToken.user_id == member_id)) == 0
