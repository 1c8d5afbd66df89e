"""API keys: shown once, stored hashed, listed per store, revoked for good."""
import pytest

from checkie.errors import NotFound, ValidationFailed
from checkie.security import hash_token
from checkie.stores import access, api_keys
from checkie.stores.models import ApiKeyMode
from tests.factories import make_store


def test_create_returns_the_secret_once_and_stores_only_its_hash(db, user, store):
    key, raw = api_keys.create_api_key(db, store, name="  Website backend ", created_by=user)
    assert raw.startswith("ck_test_") and len(raw) > 40
    assert (key.name, key.mode, key.prefix, key.created_by_id) == ("Website backend", ApiKeyMode.TEST, raw[:12], user.id)
    assert key.key_hash == hash_token(raw) and raw not in (key.key_hash, key.prefix)


def test_a_key_authenticates_until_it_is_revoked(db, user, store):
    key, raw = api_keys.create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    assert access.find_api_key(db, raw).id == key.id
    api_keys.revoke_api_key(db, key)
    db.commit()
    assert access.find_api_key(db, raw) is None


def test_revoking_twice_keeps_the_first_time(db, user, store):
    key, _ = api_keys.create_api_key(db, store, name="Backend", created_by=user)
    first = api_keys.revoke_api_key(db, key).revoked_at
    assert api_keys.revoke_api_key(db, key).revoked_at == first


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\x00b"])
def test_a_key_needs_a_sensible_name(db, user, store, name):
    with pytest.raises(ValidationFailed) as excinfo:
        api_keys.create_api_key(db, store, name=name, created_by=user)
    assert set(excinfo.value.fields) == {"name"}


def test_keys_are_listed_per_store_newest_first(db, user, store):
    first, _ = api_keys.create_api_key(db, store, name="First", created_by=user)
    second, _ = api_keys.create_api_key(db, store, name="Second", created_by=user)
    api_keys.create_api_key(db, make_store(db, name="Other"), name="Theirs", created_by=None)
    assert [k.id for k in api_keys.list_api_keys(db, store)] == [second.id, first.id]


def test_another_stores_key_is_not_found(db, user, store):
    theirs, _ = api_keys.create_api_key(db, make_store(db, name="Other"), name="Theirs", created_by=None)
    with pytest.raises(NotFound):
        api_keys.get_api_key(db, store, theirs.id)
    with pytest.raises(NotFound):
        api_keys.get_api_key(db, store, 0)
