"""Store API keys: `ck_test_…` secrets shown once, stored as SHA-256 hashes, revocable.

Keys authenticate through `checkie.stores.access.find_api_key`, which ignores revoked ones.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.accounts.models import User
from checkie.database import utcnow
from checkie.errors import NotFound
from checkie.security import hash_token, new_token
from checkie.stores.access import MAX_ID
from checkie.stores.models import ApiKey, ApiKeyMode, Store
from checkie.stores.services import clean_label

NAME_MAX_LENGTH = 100
#: `ck_test_` plus four random characters: enough to tell keys apart, far too little to guess one.
PREFIX_LENGTH = 12
_KEY_PREFIXES = {ApiKeyMode.TEST: "ck_test_", ApiKeyMode.LIVE: "ck_live_"}


def create_api_key(
    db: Session, store: Store, *, name: str, created_by: User | None, mode: ApiKeyMode = ApiKeyMode.TEST
) -> tuple[ApiKey, str]:
    """A new key for `store` and its raw secret. The secret is returned only here: we keep its
    hash, so it cannot be shown again. Test mode only until live payments exist.
    ValidationFailed on `name`."""
    name = clean_label(name, field="name", max_length=NAME_MAX_LENGTH)
    raw_key = _KEY_PREFIXES[mode] + new_token()
    key = ApiKey(
        store_id=store.id, name=name, mode=mode, prefix=raw_key[:PREFIX_LENGTH],
        key_hash=hash_token(raw_key), created_by_id=created_by.id if created_by else None,
    )
    db.add(key)
    db.flush()
    return key, raw_key


def list_api_keys(db: Session, store: Store) -> list[ApiKey]:
    """Every key of the store, newest first, revoked ones included (they explain old log lines)."""
    return list(db.scalars(sa.select(ApiKey).where(ApiKey.store_id == store.id).order_by(ApiKey.id.desc())))


def get_api_key(db: Session, store: Store, key_id: int) -> ApiKey:
    """A key of `store`; another store's key is NotFound, like a missing one."""
    key = db.get(ApiKey, key_id) if 0 < key_id <= MAX_ID else None
    if key is None or key.store_id != store.id:
        raise NotFound("API key not found.")
    return key


def revoke_api_key(db: Session, key: ApiKey) -> ApiKey:
    """Stop the key from authenticating from now on. Revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.flush()
    return key
