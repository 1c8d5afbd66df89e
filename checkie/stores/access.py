"""Who may act on which store. Every store-scoped route — dashboard or API — goes through here,
so another store's id is a 404 and a role that may not act is a 403, in one place."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from checkie.database import MAX_ID, utcnow
from checkie.errors import NotFound, PermissionDenied
from checkie.security import hash_token
from checkie.stores.models import ApiKey, MemberStatus, Role, Store, StoreMember

#: An API key acts like an admin of its own store: it cannot manage members, keys or the store itself.
API_KEY_ROLE = Role.ADMIN
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def membership(db: Session, user_id: int, store_id: int) -> StoreMember | None:
    if not 0 < store_id <= MAX_ID:
        return None
    return db.scalar(
        sa.select(StoreMember).where(
            StoreMember.store_id == store_id,
            StoreMember.user_id == user_id,
            StoreMember.status == MemberStatus.ACTIVE,
        )
    )


def _check_role(role: Role, required: Role) -> None:
    if not role.at_least(required):
        raise PermissionDenied(f"Your role ({role.value}) cannot do this; it needs {required.value}.")


def store_for_user(db: Session, user_id: int, store_id: int, *, required: Role = Role.VIEWER) -> tuple[Store, Role]:
    """The store and the user's role in it; NotFound if not a member, PermissionDenied if the role is too low."""
    member = membership(db, user_id, store_id)
    if member is None:
        raise NotFound("Store not found.")
    _check_role(member.role, required)
    return member.store, member.role


def store_for_api_key(db: Session, api_key: ApiKey, store_id: int, *, required: Role = Role.VIEWER) -> tuple[Store, Role]:
    if api_key.store_id != store_id:
        raise NotFound("Store not found.")
    _check_role(API_KEY_ROLE, required)
    return api_key.store, API_KEY_ROLE


def store_for_principal(
    db: Session, principal, store_id: int, *, required: Role = Role.VIEWER, people_only: str | None = None
) -> tuple[Store, Role]:
    """For the JSON API: `principal` has `.user` or `.api_key`. Another store is a 404 first,
    for keys too; then `people_only` (naming the action) refuses API keys outright with a 403,
    and a role below `required` is a 403."""
    if principal.api_key is None:
        return store_for_user(db, principal.user.id, store_id, required=required)
    store, role = store_for_api_key(db, principal.api_key, store_id)
    if people_only:
        refuse_api_key(principal.api_key, people_only)
    _check_role(role, required)
    return store, role


def refuse_api_key(api_key: ApiKey | None, action: str) -> None:
    """Members, API keys and the store's existence are managed by people: a leaked key must not
    be able to mint more keys or let someone in. PermissionDenied when an API key asks."""
    if api_key is not None:
        raise PermissionDenied(f"An API key cannot {action}; use a user access token.")


def stores_of_user(db: Session, user_id: int) -> list[tuple[Store, Role]]:
    rows = db.execute(
        sa.select(Store, StoreMember.role)
        .join(StoreMember, StoreMember.store_id == Store.id)
        .where(StoreMember.user_id == user_id, StoreMember.status == MemberStatus.ACTIVE)
        .order_by(Store.name, Store.id)
    ).all()
    return [(store, role) for store, role in rows]


def store_to_open(db: Session, user_id: int, preferred_store_id: int | None) -> Store | None:
    """Where the dashboard lands: the store used last if the user still belongs to it, else
    their first store by name, else None (no stores yet)."""
    if isinstance(preferred_store_id, int):
        member = membership(db, user_id, preferred_store_id)
        if member is not None:
            return member.store
    stores = stores_of_user(db, user_id)
    return stores[0][0] if stores else None


def find_api_key(db: Session, raw_key: str) -> ApiKey | None:
    """The live (unrevoked) key for `raw_key`, noting when it was last used (at most once a minute)."""
    key = db.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_token(raw_key), ApiKey.revoked_at.is_(None)))
    if key is not None:
        _note_use(db, key)
    return key


def _note_use(db: Session, key: ApiKey) -> None:
    """Record the use in a short transaction of its own: a read-only request never commits and a
    failed one rolls back, yet the key was used. The conditional UPDATE keeps concurrent requests
    from writing the same minute twice."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at <= _LAST_USED_RESOLUTION:
        return
    stale = sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - _LAST_USED_RESOLUTION)
    with db.get_bind().engine.begin() as connection:
        connection.execute(sa.update(ApiKey).where(ApiKey.id == key.id, stale).values(last_used_at=now))
    set_committed_value(key, "last_used_at", now)
